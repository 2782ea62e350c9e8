// The Create form follows the chosen Model: its sizes, samplers, step and
// CFG ranges come from the option's data attributes (the server checks
// them again on submit).
(function () {
  'use strict';
  var model = document.getElementById('modelName');
  if (!model) { return; }

  function fill(select, values, chosen) {
    var keep = values.indexOf(select.value) >= 0 ? select.value : chosen;
    select.replaceChildren();
    values.forEach(function (v) {
      var o = document.createElement('option');
      o.textContent = v;
      o.selected = v === keep;
      select.appendChild(o);
    });
  }

  model.addEventListener('change', function () {
    var d = model.selectedOptions[0].dataset;
    fill(document.getElementById('width'), d.widths.split(','), d.width);
    fill(document.getElementById('height'), d.heights.split(','), d.height);
    fill(document.getElementById('sampler'), d.samplers.split('|'), d.sampler);
    var steps = document.getElementById('steps');
    steps.min = d.minSteps; steps.max = d.maxSteps;
    var cfg = document.getElementById('cfgscale');
    cfg.min = d.minCfg; cfg.max = d.maxCfg;
    document.getElementById('model-limits').textContent = d.limits;
  });
})();
