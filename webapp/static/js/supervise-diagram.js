// PressFlow supervisor diagram: the instance's BPMN in bpmn-js's NavigatedViewer with done (green), active
// (yellow), overdue (red) and failed (purple) steps, and an overlay on each open step naming its holder, due date
// and working days overdue.
//
// The element `.sv-diagram[data-diagram-url]` receives the viewer; the URL answers
// {bpmn_xml, done, active: [{id, holder, due, overdue, overdue_workdays}], overdue, error}. The page's table lists
// the same facts, so when the viewer or the request fails the container shows its error text and nothing is lost.
// The bpmn.io watermark stays visible, as its licence asks.
(function () {
  'use strict';

  // One marker per element, the most urgent state winning.
  var ORDER = [['error', 'sv-error'], ['overdue', 'sv-overdue'], ['active', 'sv-active'], ['done', 'sv-done']];

  function fail(container, error) {
    container.classList.add('sv-diagram-failed');
    var note = document.createElement('p');
    note.className = 'muted';
    note.textContent = container.getAttribute('data-error-text') || 'Diagram unavailable';
    container.appendChild(note);
    if (error && window.console) {
      window.console.warn('PressFlow supervisor diagram:', error);
    }
  }

  function markerOf(states) {
    var active = (states.active || []).map(function (step) { return step.id; });
    var sets = { error: states.error || [], overdue: states.overdue || [], active: active, done: states.done || [] };
    var chosen = {};
    ORDER.forEach(function (pair) {
      sets[pair[0]].forEach(function (id) {
        if (!chosen[id]) {
          chosen[id] = pair[1];
        }
      });
    });
    return chosen;
  }

  function line(text, className) {
    var item = document.createElement('span');
    item.className = className;
    item.textContent = text;
    return item;
  }

  function overlay(container, steps) {
    var box = document.createElement('div');
    box.className = 'sv-overlay';
    steps.forEach(function (step) {
      var entry = document.createElement('div');
      entry.className = 'sv-overlay-entry' + (step.overdue ? ' sv-overlay-late' : '');
      entry.appendChild(line(step.holder, 'sv-overlay-holder'));
      if (step.due) {
        entry.appendChild(line(container.getAttribute('data-label-due') + ' ' + step.due, 'sv-overlay-due'));
      }
      if (step.overdue) {
        var late = step.overdue_workdays > 0
          ? container.getAttribute('data-label-overdue').replace('{n}', String(step.overdue_workdays))
          : container.getAttribute('data-label-late');
        entry.appendChild(line(late, 'sv-overlay-overdue'));
      }
      box.appendChild(entry);
    });
    return box;
  }

  function decorate(viewer, container, states) {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    var overlays = viewer.get('overlays');
    var markers = markerOf(states);
    Object.keys(markers).forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, markers[id]);
      }
    });
    var byStep = {};
    (states.active || []).forEach(function (step) {
      (byStep[step.id] = byStep[step.id] || []).push(step);
    });
    Object.keys(byStep).forEach(function (id) {
      if (registry.get(id)) {
        overlays.add(id, 'sv-holder', { position: { bottom: -6, left: 0 }, html: overlay(container, byStep[id]) });
      }
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
    window.fetch(container.getAttribute('data-diagram-url'), {
      credentials: 'same-origin', headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('diagram.json answered ' + response.status);
      }
      return response.json();
    }).then(function (states) {
      return viewer.importXML(states.bpmn_xml).then(function () {
        viewer.get('canvas').zoom('fit-viewport', 'auto');
        decorate(viewer, container, states);
        container.setAttribute('data-ready', '1');
      });
    }).catch(function (error) {
      viewer.destroy();
      fail(container, error);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('.sv-diagram[data-diagram-url]'), render);
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
