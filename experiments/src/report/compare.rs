//! The report's comparison view: tick *compare* on two or more experiments (or open the page
//! as `index.html#compare=a,b`) to see their key metrics side by side and every curve they
//! record (`*_curve` in their metrics) overlaid, one colour per run. The page carries each
//! run's key metrics and curves (at most [`POINTS`] points each) as JSON; a short script draws
//! the table and SVG charts in the browser, so the page stays one static file.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{json, Map, Value};

/// Points kept of each curve (evenly spaced, first and last always kept): enough to see a
/// curve's shape in a 520-pixel chart, small enough that a page of sixty runs stays light.
pub(super) const POINTS: usize = 150;

/// The comparison section, hidden until two runs are picked.
pub(super) const SECTION: &str =
    "<section id=\"compare\" hidden>\n<h2>Comparison</h2>\n<div id=\"compare-body\"></div>\n</section>\n";

/// A curve: its name, the epochs kept and their values (`None` where the run wrote null).
pub(super) type Curve = (String, Vec<usize>, Vec<Option<f64>>);

/// Every curve of a metrics file: arrays of numbers (nulls allowed) under keys ending in
/// `_curve`, nested objects flattened (`a.b_curve`), as (name, epochs, values) thinned to
/// [`POINTS`] points. Epochs count from 1.
pub(super) fn curves(metrics: &Value) -> Vec<Curve> {
    let mut out = vec![];
    walk(metrics, "", &mut out);
    out
}

fn walk(value: &Value, prefix: &str, out: &mut Vec<Curve>) {
    let Value::Object(map) = value else { return };
    for (k, v) in map {
        let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
        match v {
            Value::Object(_) => walk(v, &key, out),
            Value::Array(items) if k.ends_with("_curve") && items.len() >= 2 => {
                if !items.iter().all(|x| x.is_number() || x.is_null()) {
                    continue;
                }
                let keep = thin(items.len(), POINTS);
                let epochs = keep.iter().map(|&i| i + 1).collect();
                let values = keep.iter().map(|&i| items[i].as_f64()).collect();
                out.push((key, epochs, values));
            }
            _ => {}
        }
    }
}

/// Up to `most` indices of `0..len`, evenly spaced, the first and last included.
pub(super) fn thin(len: usize, most: usize) -> Vec<usize> {
    if len <= most {
        return (0..len).collect();
    }
    let mut keep: Vec<usize> = (0..most).map(|k| (k * (len - 1) + (most - 1) / 2) / (most - 1)).collect();
    keep.dedup();
    keep
}

/// A curve point to 4 significant digits (a 520-pixel chart shows 3), so the page stays small.
fn short(x: f64) -> Value {
    if !x.is_finite() {
        return Value::Null;
    }
    format!("{x:.3e}").parse::<f64>().map_or(Value::Null, |v| json!(v))
}

/// The runs' key metrics and curves as the page's JSON data block.
pub(super) fn data<'a>(out: &mut String, runs: impl Iterator<Item = (&'a str, &'a Path)>) {
    let mut all = Map::new();
    for (id, dir) in runs {
        let Some(metrics) = crate::read_metrics(dir) else { continue };
        let mut series = Map::new();
        for (name, epochs, values) in curves(&metrics) {
            let y: Vec<Value> = values.into_iter().map(|v| v.map_or(Value::Null, short)).collect();
            series.insert(name, json!({ "x": epochs, "y": y }));
        }
        let table = super::key_metrics(&metrics, 40);
        all.insert(id.to_string(), json!({ "metrics": table, "curves": series }));
    }
    // `</` cannot end the script early: JSON allows `<\/` for it.
    let text = Value::Object(all).to_string().replace("</", "<\\/");
    let _ = writeln!(out, "<script type=\"application/json\" id=\"runs\">{text}</script>");
}

/// Draws the comparison: the picked runs come from the checkboxes, or the page's
/// `#compare=a,b` address on opening (kept up to date, so a comparison can be shared as a link).
pub(super) const SCRIPT: &str = r##"
(function(){
var data=JSON.parse(document.getElementById('runs').textContent);
var boxes=[].slice.call(document.querySelectorAll('input[data-run]'));
var colours=['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#17becf','#7f7f7f','#bcbd22'];
function colour(k){return colours[k%colours.length]}
function esc(t){return String(t).replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;').replace(/"/g,'&quot;')}
function fmt(v){return String(Number(v.toPrecision(3)))}
function fromAddress(){var h=decodeURIComponent(location.hash.slice(1));
 return h.indexOf('compare=')===0?h.slice(8).split(',').filter(function(id){return data.hasOwnProperty(id)}):null}
var picked=fromAddress()||[];
function chart(name,ids){
 var W=520,H=280,L=64,R=12,T=26,B=34;
 var series=ids.map(function(id,k){var s=data[id].curves[name];return s?{k:k,x:s.x,y:s.y}:null}).filter(Boolean);
 var xs=[],ys=[];
 series.forEach(function(s){s.x.forEach(function(x,i){var y=s.y[i];if(y!==null&&isFinite(y)){xs.push(x);ys.push(y)}})});
 if(!ys.length)return '';
 var x0=Math.min.apply(null,xs),x1=Math.max.apply(null,xs),y0=Math.min.apply(null,ys),y1=Math.max.apply(null,ys);
 var log=y0>0&&y1/y0>10,f=log?function(v){return Math.log(v)/Math.LN10}:function(v){return v};
 var a=f(y0),b=f(y1);if(b===a){a-=0.5;b+=0.5}if(x1===x0){x1=x0+1}
 function px(x){return L+(x-x0)/(x1-x0)*(W-L-R)}
 function py(y){return T+(b-f(y))/(b-a)*(H-T-B)}
 var s='<svg class="overlay" data-curve="'+esc(name)+'" width="'+W+'" height="'+H+'" viewBox="0 0 '+W+' '+H+'" font-family="sans-serif" font-size="11">';
 s+='<text x="'+L+'" y="16" font-size="13">'+esc(name)+(log?' (log axis)':'')+'</text>';
 s+='<rect x="'+L+'" y="'+T+'" width="'+(W-L-R)+'" height="'+(H-T-B)+'" fill="none" stroke="#999"/>';
 [a,(a+b)/2,b].forEach(function(v){var y=T+(b-v)/(b-a)*(H-T-B);
  s+='<text x="'+(L-4)+'" y="'+(y+4)+'" text-anchor="end">'+fmt(log?Math.pow(10,v):v)+'</text>'});
 s+='<text x="'+L+'" y="'+(H-18)+'" text-anchor="middle">'+x0+'</text><text x="'+(W-R)+'" y="'+(H-18)+'" text-anchor="end">'+x1+'</text>';
 s+='<text x="'+((L+W-R)/2)+'" y="'+(H-4)+'" text-anchor="middle">epoch</text>';
 series.forEach(function(c){var pts=[];
  c.x.forEach(function(x,i){var y=c.y[i];if(y!==null&&isFinite(y)&&(!log||y>0))pts.push(px(x).toFixed(1)+','+py(y).toFixed(1))});
  s+='<polyline data-run="'+esc(ids[c.k])+'" fill="none" stroke-width="1.5" stroke="'+colour(c.k)+'" points="'+pts.join(' ')+'"/>'});
 return s+'</svg>';
}
function show(){
 boxes.forEach(function(b){b.checked=picked.indexOf(b.dataset.run)>=0});
 var section=document.getElementById('compare'),ids=picked;
 if(ids.length<2){section.hidden=true;return}
 section.hidden=false;
 var keys=[];
 ids.forEach(function(id){data[id].metrics.forEach(function(m){if(keys.indexOf(m[0])<0)keys.push(m[0])})});
 var h='<p class="key">'+ids.map(function(id,k){return '<span style="background:'+colour(k)+'"></span><a href="#'+esc(id)+'">'+esc(id)+'</a>'}).join('')+'</p>';
 var names=[];
 ids.forEach(function(id){Object.keys(data[id].curves).forEach(function(c){if(names.indexOf(c)<0)names.push(c)})});
 names.forEach(function(c){h+=chart(c,ids)});
 h+='<div class="wide"><table class="comparison"><tr><th>metric</th>'+ids.map(function(id){return '<th>'+esc(id)+'</th>'}).join('')+'</tr>';
 keys.forEach(function(key){h+='<tr><th>'+esc(key)+'</th>'+ids.map(function(id){
  var m=data[id].metrics.filter(function(m){return m[0]===key})[0];return '<td>'+(m?esc(m[1]):'')+'</td>'}).join('')+'</tr>'});
 h+='</table></div>';
 document.getElementById('compare-body').innerHTML=h;
}
boxes.forEach(function(b){b.addEventListener('change',function(){
 var id=b.dataset.run;picked=picked.filter(function(p){return p!==id});if(b.checked)picked.push(id);
 history.replaceState(null,'',picked.length?'#compare='+picked.map(encodeURIComponent).join(','):location.pathname);
 show();if(picked.length>=2)document.getElementById('compare').scrollIntoView()})});
window.addEventListener('hashchange',function(){var p=fromAddress();if(p){picked=p;show()}});
show();
})();
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thinning_keeps_the_ends_and_spreads_evenly() {
        assert_eq!(thin(5, 200), vec![0, 1, 2, 3, 4]);
        let keep = thin(1000, 200);
        assert_eq!((keep.len(), keep[0], *keep.last().unwrap()), (200, 0, 999));
        let gaps: Vec<usize> = keep.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(gaps.iter().all(|&g| g == 5 || g == 6), "{gaps:?}");
    }

    #[test]
    fn curves_are_found_nested_and_nulls_kept() {
        let m = json!({"loss_curve": [3.0, 2.0, 1.0], "test_loss_curve": null, "x": {"score_curve": [1, null, 2]},
            "epochs": 3, "names_curve": ["a", "b"]});
        let c = curves(&m);
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(c[0], ("loss_curve".into(), vec![1, 2, 3], vec![Some(3.0), Some(2.0), Some(1.0)]));
        assert_eq!(c[1], ("x.score_curve".into(), vec![1, 2, 3], vec![Some(1.0), None, Some(2.0)]));
    }
}
