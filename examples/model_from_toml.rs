//! Trains a model written as a config in a string (XOR by a 2-4-1 network, written as a graph):
//! the experiments library validates and runs it in memory, and the example reads the numbers
//! from the metrics it rendered. Nothing is written but the config's temporary file.

use anyhow::Result;

const CONFIG: &str = r#"
kind = "model"
seed = 3

[data]
inline_x = [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
inline_y = [0.0, 1.0, 1.0, 0.0]

[model]
inputs  = { x = 2 }
targets = { y = 1 }
predict = "o"
loss    = "squared_error(o, y)"

[model.params]
W1 = { shape = [4, 2] }
b1 = { shape = [4], init = "zeros" }
W2 = { shape = [1, 4] }
b2 = { shape = [1], init = "zeros" }

[model.nodes]
h = "tanh(W1 @ x + b1)"
o = "sigmoid(W2 @ h + b2)"

[optimizer]
method        = "sgd"
learning_rate = 2.0

[train]
epochs     = 1000
batch_size = 4
"#;

fn main() -> Result<()> {
    let dir = std::env::temp_dir().join(format!("cg-example-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("xor_model.toml");
    std::fs::write(&path, CONFIG)?;
    let outcome = experiments::run(&path, &experiments::RunOptions::default());
    std::fs::remove_dir_all(&dir)?;
    let outcome = outcome?;
    println!("{}", outcome.summary);
    let (_, metrics) =
        outcome.files.iter().find(|(name, _)| name == "metrics.json").expect("a model run writes metrics");
    let metrics: serde_json::Value = serde_json::from_slice(metrics)?;
    let accuracy = metrics["train_accuracy"].as_f64().unwrap_or(0.0);
    println!("final loss {}, train accuracy {accuracy}", metrics["final_loss"]);
    assert_eq!(accuracy, 1.0, "XOR is learnt");
    println!("files rendered: {:?}", outcome.files.iter().map(|f| f.0.as_str()).collect::<Vec<_>>());
    Ok(())
}
