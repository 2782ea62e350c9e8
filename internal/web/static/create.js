// The Create form follows the chosen Model: its kind (image or video)
// picks the fields, the form's route and encoding; its sizes, samplers,
// presets, step and CFG ranges come from the option's data attributes
// (the server checks them again on submit). The sample prompts fill the
// prompt; an upload over the route's budget is refused before it is sent.
(function () {
  'use strict';
  var form = document.getElementById('create-form');
  var model = document.getElementById('modelName');
  if (!form || !model) { return; }

  function fill(select, values, chosen, keepFirst) {
    var keep = values.indexOf(select.value) >= 0 ? select.value : chosen;
    var first = keepFirst ? select.options[0] : null;
    select.replaceChildren();
    if (first) { select.appendChild(first); }
    values.forEach(function (v) {
      if (v === '') { return; }
      var o = document.createElement('option');
      o.textContent = v;
      o.selected = v === keep;
      select.appendChild(o);
    });
  }

  function showKind(video) {
    [['image-fields', !video], ['video-fields', video]].forEach(function (p) {
      var set = document.getElementById(p[0]);
      set.hidden = !p[1];
      set.disabled = !p[1];
    });
    form.action = video ? form.dataset.videoAction : form.dataset.imageAction;
    form.enctype = video ? 'multipart/form-data' : 'application/x-www-form-urlencoded';
  }

  model.addEventListener('change', function () {
    var d = model.selectedOptions[0].dataset;
    var video = d.kind === 'video';
    showKind(video);
    if (video) {
      fill(document.getElementById('controlNetPreset'), d.presets.split('|'), '', true);
    } else {
      fill(document.getElementById('width'), d.widths.split(','), d.width);
      fill(document.getElementById('height'), d.heights.split(','), d.height);
      fill(document.getElementById('sampler'), d.samplers.split('|'), d.sampler);
      var cfg = document.getElementById('cfgscale');
      cfg.min = d.minCfg; cfg.max = d.maxCfg;
    }
    var steps = document.getElementById('steps');
    steps.min = d.minSteps; steps.max = d.maxSteps;
    document.getElementById('model-limits').textContent = d.limits;
  });

  var samples = document.getElementById('samples');
  if (samples) {
    samples.hidden = false;
    samples.addEventListener('click', function (e) {
      var b = e.target.closest('button.sample');
      if (!b) { return; }
      document.getElementById('prompt').value = b.dataset.prompt;
      var neg = document.getElementById('negprompt');
      if (b.dataset.negprompt) { neg.value = b.dataset.negprompt; }
      document.getElementById('prompt').focus();
    });
  }

  var upload = document.getElementById('inputImage');
  form.addEventListener('submit', function (e) {
    var file = upload && !upload.disabled && upload.files[0];
    var max = Number(form.dataset.maxUpload);
    if (file && max > 0 && file.size > max) {
      e.preventDefault();
      var err = document.getElementById('inputImage-error');
      if (!err) {
        err = document.createElement('p');
        err.className = 'field-error'; err.id = 'inputImage-error'; err.setAttribute('role', 'alert');
        upload.after(err);
      }
      err.textContent = 'inputImage: the image is ' + Math.ceil(file.size / 1048576) + ' MiB; this page accepts at most ' +
        Math.floor(max / 1048576) + ' MiB';
      upload.focus();
    }
  });
})();
