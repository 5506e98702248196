/*
 * The service record form's evidence of a visit (issue 19 item 3), no dependencies:
 *   - photos: each chosen camera image is drawn onto a canvas, scaled to at most 1600 px on its
 *     long side and re-encoded as JPEG (quality 0.8); the resized files replace the chosen ones
 *     before the form is sent (without JavaScript the originals go, and the server's size bound
 *     applies);
 *   - location: only when the worker ticks the consent box, the device's position (latitude,
 *     longitude, accuracy, time) fills the hidden fields; unticking clears them;
 *   - signature: drawn with a finger or the mouse on a canvas, sent as a PNG data URL.
 */
(function () {
  'use strict';

  var MAX_SIDE = 1600;
  var QUALITY = 0.8;
  var MAX_PHOTOS = 5;

  function $(id) {
    return document.getElementById(id);
  }

  function say(el, text) {
    if (el) {
      el.textContent = text;
    }
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, k) {
      return values[k] !== undefined ? values[k] : '';
    });
  }

  // ---------------------------------------------------------------------
  // Photos
  // ---------------------------------------------------------------------

  function loadImage(file) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () {
        var img = new Image();
        img.onload = function () { resolve(img); };
        img.onerror = reject;
        img.src = reader.result; // a data: URL (the page's policy allows data: images)
      };
      reader.onerror = reject;
      reader.readAsDataURL(file);
    });
  }

  function resize(file, index) {
    return loadImage(file).then(function (img) {
      var w = img.naturalWidth;
      var h = img.naturalHeight;
      var scale = Math.min(1, MAX_SIDE / Math.max(w, h));
      var canvas = document.createElement('canvas');
      canvas.width = Math.max(1, Math.round(w * scale));
      canvas.height = Math.max(1, Math.round(h * scale));
      var g = canvas.getContext('2d');
      g.fillStyle = '#fff';
      g.fillRect(0, 0, canvas.width, canvas.height);
      g.drawImage(img, 0, 0, canvas.width, canvas.height);
      return new Promise(function (resolve) {
        canvas.toBlob(function (blob) {
          var base = (file.name || 'photo').replace(/\.[^.]*$/, '') || 'photo';
          resolve(new File([blob], base + '-' + (index + 1) + '.jpg', { type: 'image/jpeg' }));
        }, 'image/jpeg', QUALITY);
      });
    });
  }

  function setUpPhotos(box, form) {
    var input = $('photos');
    var status = $('photos-status');
    var save = $('save-service');
    if (!input || typeof DataTransfer === 'undefined') {
      return;
    }
    var busy = false;
    input.addEventListener('change', function () {
      if (busy || !input.files || input.files.length === 0 || input.dataset.resized === '1') {
        input.dataset.resized = '';
        return;
      }
      var chosen = Array.prototype.slice.call(input.files);
      var tooMany = chosen.length > MAX_PHOTOS;
      chosen = chosen.slice(0, MAX_PHOTOS);
      busy = true;
      if (save) {
        save.disabled = true;
      }
      Promise.all(chosen.map(resize)).then(function (files) {
        var dt = new DataTransfer();
        var bytes = 0;
        files.forEach(function (f) {
          dt.items.add(f);
          bytes += f.size;
        });
        input.dataset.resized = '1';
        input.files = dt.files;
        var text = fill(box.dataset.resized || '', {
          n: files.length,
          kb: Math.round(bytes / 1024)
        });
        say(status, tooMany ? text + ' ' + (box.dataset.tooMany || '') : text);
        status.dataset.state = 'resized';
      }).catch(function () {
        // Not an image the browser can draw: send it as chosen, the server decides.
        say(status, '');
      }).then(function () {
        busy = false;
        if (save) {
          save.disabled = false;
        }
      });
    });
    form.addEventListener('submit', function (e) {
      if (busy) {
        e.preventDefault();
      }
    });
  }

  // ---------------------------------------------------------------------
  // Location, with consent
  // ---------------------------------------------------------------------

  function setUpLocation(box) {
    var consent = $('geo-consent');
    var status = $('geo-status');
    var fields = ['latitude', 'longitude', 'accuracy_m', 'located_at'].map($);
    if (!consent) {
      return;
    }
    function clear() {
      fields.forEach(function (f) {
        if (f) {
          f.value = '';
        }
      });
    }
    consent.addEventListener('change', function () {
      if (!consent.checked) {
        clear();
        say(status, '');
        return;
      }
      if (!navigator.geolocation) {
        consent.checked = false;
        say(status, box.dataset.geoFailed || '');
        return;
      }
      say(status, box.dataset.locating || '');
      navigator.geolocation.getCurrentPosition(function (pos) {
        if (!consent.checked) {
          return;
        }
        var c = pos.coords;
        fields[0].value = c.latitude.toFixed(6);
        fields[1].value = c.longitude.toFixed(6);
        fields[2].value = Math.round(c.accuracy * 10) / 10;
        fields[3].value = String(Math.round(pos.timestamp || Date.now()));
        say(status, fill(box.dataset.located || '{lat}, {lon} ± {acc} m', {
          lat: fields[0].value,
          lon: fields[1].value,
          acc: Math.round(c.accuracy)
        }));
        status.dataset.state = 'located';
      }, function () {
        consent.checked = false;
        clear();
        say(status, box.dataset.geoFailed || '');
      }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
    });
  }

  // ---------------------------------------------------------------------
  // Signature
  // ---------------------------------------------------------------------

  function setUpSignature() {
    var canvas = $('signature-pad');
    var field = $('signature');
    var clearButton = $('signature-clear');
    if (!canvas || !field || !canvas.getContext) {
      return;
    }
    var g = canvas.getContext('2d');
    g.lineWidth = 3;
    g.lineCap = 'round';
    g.lineJoin = 'round';
    g.strokeStyle = '#111';
    var drawing = false;
    var drawn = false;
    if (field.value) {
      // A form shown again after a refusal keeps the signature.
      var img = new Image();
      img.onload = function () { g.drawImage(img, 0, 0); drawn = true; };
      img.src = field.value;
    }
    function point(e) {
      var r = canvas.getBoundingClientRect();
      return {
        x: (e.clientX - r.left) * (canvas.width / r.width),
        y: (e.clientY - r.top) * (canvas.height / r.height)
      };
    }
    canvas.addEventListener('pointerdown', function (e) {
      drawing = true;
      canvas.setPointerCapture(e.pointerId);
      var p = point(e);
      g.beginPath();
      g.moveTo(p.x, p.y);
      e.preventDefault();
    });
    canvas.addEventListener('pointermove', function (e) {
      if (!drawing) {
        return;
      }
      var p = point(e);
      g.lineTo(p.x, p.y);
      g.stroke();
      drawn = true;
      e.preventDefault();
    });
    function end() {
      if (!drawing) {
        return;
      }
      drawing = false;
      if (drawn) {
        field.value = canvas.toDataURL('image/png');
      }
    }
    canvas.addEventListener('pointerup', end);
    canvas.addEventListener('pointercancel', end);
    if (clearButton) {
      clearButton.addEventListener('click', function () {
        g.clearRect(0, 0, canvas.width, canvas.height);
        field.value = '';
        drawn = false;
      });
    }
  }

  function start() {
    var box = $('visit-evidence');
    var form = $('service-form');
    if (!box || !form) {
      return;
    }
    setUpPhotos(box, form);
    setUpLocation(box);
    setUpSignature();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
}());
