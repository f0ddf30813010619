// Draw the dry run's path on the diagram: every flow node and sequence flow it passed gets the dry-path marker.
(function () {
  'use strict';
  var container = document.getElementById('dry-diagram');
  var source = document.getElementById('dry-xml');
  if (!container || !source || !window.BpmnJS) {
    return;
  }
  var path = JSON.parse(container.getAttribute('data-path') || '[]');
  var viewer = new window.BpmnJS({ container: container });
  viewer.importXML(source.textContent).then(function () {
    var canvas = viewer.get('canvas');
    var registry = viewer.get('elementRegistry');
    canvas.zoom('fit-viewport');
    path.forEach(function (id) {
      if (registry.get(id)) {
        canvas.addMarker(id, 'dry-path');
      }
    });
    container.setAttribute('data-drawn', String(path.length));
  }).catch(function (error) {
    container.textContent = String(error);
  });
}());
