// PressFlow instance diagram: render the instance's BPMN with bpmn-js's NavigatedViewer and mark its steps.
//
// Every element `.bpmn-diagram[data-bpmn-url][data-states-url]` on the page becomes a viewer. The diagram is an
// enhancement: when the viewer script is missing or a request fails, the container shows its error text and the
// rest of the page keeps working. The bpmn.io watermark stays visible, as its licence asks.
(function () {
  'use strict';

  if (window.PressflowDiagram) {
    return; // the partial may be included more than once on a page
  }

  var MARKERS = { completed: 'pf-completed', current: 'pf-current', failed: 'pf-failed' };

  function fail(container, error) {
    container.classList.add('bpmn-diagram-failed');
    var note = document.createElement('p');
    note.className = 'muted diagram-error';
    note.textContent = container.getAttribute('data-error-text') || 'Diagram unavailable';
    container.appendChild(note);
    if (error && window.console) {
      window.console.warn('PressFlow diagram:', error);
    }
  }

  function fetchOk(url, kind) {
    return window.fetch(url, { credentials: 'same-origin', headers: { Accept: kind } }).then(function (response) {
      if (!response.ok) {
        throw new Error(url + ' answered ' + response.status);
      }
      return kind === 'application/json' ? response.json() : response.text();
    });
  }

  function mark(viewer, states) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    Object.keys(MARKERS).forEach(function (state) {
      (states[state] || []).forEach(function (id) {
        if (registry.get(id)) {
          canvas.addMarker(id, MARKERS[state]);
        }
      });
    });
  }

  // 加签 / 委派: name the added approvers on their step (the model itself is unchanged).
  function overlaySigners(viewer, signers) {
    var overlays = viewer.get('overlays');
    var registry = viewer.get('elementRegistry');
    Object.keys(signers || {}).forEach(function (id) {
      var element = registry.get(id);
      if (!element) {
        return;
      }
      var note = document.createElement('div');
      note.className = 'pf-signers';
      note.textContent = signers[id];
      overlays.add(id, 'pf-signers', { position: { top: element.height + 4, left: 0 }, html: note });
    });
  }

  var ZOOM_STEP = 1.25;

  // The ＋ / － / 适应窗口 buttons of `.diagram-zoom[data-diagram-for=<container id>]`.
  function zoomButtons(container, canvas) {
    var bar = document.querySelector('.diagram-zoom[data-diagram-for="' + container.id + '"]');
    if (!bar) {
      return;
    }
    bar.addEventListener('click', function (event) {
      var button = event.target.closest('[data-diagram-zoom]');
      if (!button) {
        return;
      }
      var how = button.getAttribute('data-diagram-zoom');
      if (how === 'fit') {
        canvas.zoom('fit-viewport', 'auto');
      } else {
        canvas.zoom(canvas.zoom() * (how === 'in' ? ZOOM_STEP : 1 / ZOOM_STEP), 'auto');
      }
    });
  }

  // Phones and tablets: one finger pans, two fingers pinch-zoom (the viewer itself only follows a mouse).
  function touchNavigation(container, canvas) {
    var touches = {};
    var pinch = null;

    function points() {
      return Object.keys(touches).map(function (id) { return touches[id]; });
    }
    function spread(p) {
      return Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y);
    }
    container.addEventListener('pointerdown', function (event) {
      if (event.pointerType !== 'touch') {
        return;
      }
      touches[event.pointerId] = { x: event.clientX, y: event.clientY };
      var p = points();
      pinch = p.length === 2 ? { distance: spread(p), zoom: canvas.zoom() } : null;
    });
    container.addEventListener('pointermove', function (event) {
      var last = touches[event.pointerId];
      if (!last) {
        return;
      }
      event.preventDefault();
      var now = { x: event.clientX, y: event.clientY };
      touches[event.pointerId] = now;
      var p = points();
      if (pinch && p.length === 2) {
        var box = container.getBoundingClientRect();
        var centre = { x: (p[0].x + p[1].x) / 2 - box.left, y: (p[0].y + p[1].y) / 2 - box.top };
        canvas.zoom(pinch.zoom * spread(p) / pinch.distance, centre);
      } else if (p.length === 1) {
        canvas.scroll({ dx: now.x - last.x, dy: now.y - last.y });
      }
    });
    function end(event) {
      delete touches[event.pointerId];
      pinch = null;
    }
    container.addEventListener('pointerup', end);
    container.addEventListener('pointercancel', end);
  }

  function render(container) {
    if (container.getAttribute('data-rendered')) {
      return;
    }
    container.setAttribute('data-rendered', '1');
    if (typeof window.BpmnJS !== 'function' || typeof window.fetch !== 'function') {
      fail(container, new Error('bpmn-js viewer not loaded'));
      return;
    }
    var viewer = new window.BpmnJS({ container: container });
    Promise.all([
      fetchOk(container.getAttribute('data-bpmn-url'), 'application/xml'),
      fetchOk(container.getAttribute('data-states-url'), 'application/json')
    ]).then(function (loaded) {
      return viewer.importXML(loaded[0]).then(function () {
        viewer.get('canvas').zoom('fit-viewport', 'auto');
        mark(viewer, loaded[1]);
        overlaySigners(viewer, loaded[1].signers);
        zoomButtons(container, viewer.get('canvas'));
        touchNavigation(container, viewer.get('canvas'));
        container.setAttribute('data-ready', '1');
      });
    }).catch(function (error) {
      viewer.destroy();
      fail(container, error);
    });
  }

  function start() {
    var containers = document.querySelectorAll('.bpmn-diagram[data-bpmn-url][data-states-url]');
    Array.prototype.forEach.call(containers, render);
  }

  window.PressflowDiagram = { render: render };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
