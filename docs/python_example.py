"""The README's "From Python" example, run by CI (scripts/python_package.sh) from the repository root."""

import tempfile

import cg

metrics = cg.run("configs/xor.toml", overrides={"train.epochs": 200})  # as the binary runs it
print(metrics["final_loss"], metrics["train_accuracy"])
with tempfile.TemporaryDirectory() as tmp:
    cg.run("configs/asia.toml", out=f"{tmp}/asia")  # and writes its folder

net = cg.BayesianNetwork.from_bif("results/asia/network.bif")
print(net.query("lung", {"smoke": "yes"}))  # {'yes': 0.1, 'no': 0.9}
assert net.query("lung", {"smoke": "yes"}) == {"yes": 0.1, "no": 0.9}

try:
    cg.run('kind = "graph"\n[graph]\nnodez = 1\n')
except cg.ConfigError as e:  # a ValueError
    print(e)  # line 3, column 1: unknown field `nodez`, expected one of ...
else:
    raise SystemExit("a bad config must raise cg.ConfigError")
