// The profile picture input refuses a file over the upload budget before
// it is sent (the server refuses it too, with a 413).
(function () {
  'use strict';
  var input = document.getElementById('profilePicture');
  if (!input) { return; }
  input.addEventListener('change', function () {
    var max = Number(input.dataset.maxBytes);
    var f = input.files[0];
    input.setCustomValidity(f && max && f.size > max ?
      'The picture is larger than the upload budget of ' + input.dataset.maxSize + '; choose a smaller file.' : '');
    input.reportValidity();
  });
}());
