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
