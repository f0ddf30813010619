// PressFlow properties for the bpmn-js modeler: the panel beside the diagram that edits, for the selected user task,
// its form (formKey), its deadline in working days (dueInWorkdays) and its candidate roles (candidateRoles), and for
// a lane the role it stands for (role). The values are stored as spiffworkflow:properties/property inside
// bpmn:extensionElements (see spiffworkflow-moddle.json), through one command per change, so undo/redo covers them.
//
// Used by modeler.js: `additionalModules: [PressflowPanel.module]`, then `PressflowPanel.attach(modeler, texts)`.
(function () {
  'use strict';

  function SetPropertyHandler(modeling, moddle) {
    this._modeling = modeling;
    this._moddle = moddle;
  }
  SetPropertyHandler.$inject = ['modeling', 'moddle'];

  SetPropertyHandler.prototype.preExecute = function (context) {
    var modeling = this._modeling;
    var moddle = this._moddle;
    var element = context.element;
    var bo = element.businessObject;
    var clearing = Object.keys(context.values).every(function (name) {
      return context.values[name] === '';
    });
    if (clearing && !spiffProperties(bo)) {
      return;
    }
    var extension = bo.get('extensionElements');
    if (!extension) {
      extension = moddle.create('bpmn:ExtensionElements', { values: [] });
      modeling.updateModdleProperties(element, bo, { extensionElements: extension });
    }
    var properties = spiffProperties(bo);
    if (!properties) {
      properties = moddle.create('spiffworkflow:Properties', { properties: [] });
      modeling.updateModdleProperties(element, extension, { values: [properties].concat(extension.get('values')) });
    }
    Object.keys(context.values).forEach(function (name) {
      var value = context.values[name];
      var existing = properties.get('properties').filter(function (p) {
        return p.name === name;
      })[0];
      if (existing && value === '') {
        modeling.updateModdleProperties(element, properties, {
          properties: properties.get('properties').filter(function (p) {
            return p !== existing;
          })
        });
      } else if (existing) {
        modeling.updateModdleProperties(element, existing, { value: value });
      } else if (value !== '') {
        var created = moddle.create('spiffworkflow:Property', { name: name, value: value });
        modeling.updateModdleProperties(element, properties, {
          properties: properties.get('properties').concat([created])
        });
      }
    });
  };

  function SetPropertyRegistration(commandStack) {
    commandStack.registerHandler('pressflow.setProperties', SetPropertyHandler);
  }
  SetPropertyRegistration.$inject = ['commandStack'];

  var SetPropertyModule = {
    __init__: ['pressflowSetProperties'],
    pressflowSetProperties: ['type', SetPropertyRegistration]
  };

  function spiffProperties(bo) {
    var extension = bo.get ? bo.get('extensionElements') : null;
    if (!extension) {
      return null;
    }
    return (extension.get('values') || []).filter(function (value) {
      return value.$instanceOf && value.$instanceOf('spiffworkflow:Properties');
    })[0] || null;
  }

  function readProperties(bo) {
    var found = {};
    var properties = spiffProperties(bo);
    (properties ? properties.get('properties') : []).forEach(function (p) {
      found[p.name] = p.value || '';
    });
    return found;
  }

  function attach(modeler, text) {
    var taskForm = document.getElementById('pf-task-form');
    var laneForm = document.getElementById('pf-lane-form');
    var empty = document.getElementById('pf-panel-empty');
    var heading = document.getElementById('pf-panel-element');
    var formKey = document.getElementById('pf-form-key');
    var due = document.getElementById('pf-due');
    var dueError = document.getElementById('pf-due-error');
    var laneRole = document.getElementById('pf-lane-role');
    var roleBoxes = Array.prototype.slice.call(taskForm.querySelectorAll('input[name="pf-role"]'));
    var current = null;

    function set(values) {
      if (current) {
        modeler.get('commandStack').execute('pressflow.setProperties', { element: current, values: values });
      }
    }

    function ensureOption(select, value) {
      if (value && !select.querySelector('option[value="' + CSS.escape(value) + '"]')) {
        var option = document.createElement('option');
        option.value = value;
        option.textContent = text.unknownValue.replace('%s', value);
        select.appendChild(option);
      }
      select.value = value || '';
    }

    function refresh() {
      var bo = current && current.businessObject;
      var isTask = !!bo && bo.$instanceOf('bpmn:UserTask');
      var isLane = !!bo && bo.$instanceOf('bpmn:Lane');
      taskForm.hidden = !isTask;
      laneForm.hidden = !isLane;
      empty.hidden = isTask || isLane;
      heading.textContent = bo ? (bo.name || bo.id) : '';
      if (isTask) {
        var props = readProperties(bo);
        ensureOption(formKey, props.formKey);
        due.value = props.dueInWorkdays || '';
        dueError.textContent = '';
        var roles = (props.candidateRoles || '').split(/\s+/);
        roleBoxes.forEach(function (box) {
          box.checked = roles.indexOf(box.value) >= 0;
        });
      } else if (isLane) {
        ensureOption(laneRole, laneRoleOf(bo));
      }
    }

    modeler.on('selection.changed', function (event) {
      current = event.newSelection.length === 1 ? event.newSelection[0] : null;
      refresh();
    });
    modeler.on('elements.changed', function (event) {
      if (current && event.elements.indexOf(current) >= 0) {
        refresh();
      }
    });
    formKey.addEventListener('change', function () {
      set({ formKey: formKey.value });
    });
    due.addEventListener('change', function () {
      var value = due.value.trim();
      if (value !== '' && !/^\d+$/.test(value)) {
        dueError.textContent = text.dueInvalid;
        return;
      }
      dueError.textContent = '';
      set({ dueInWorkdays: value === '' ? '' : String(parseInt(value, 10)) });
    });
    roleBoxes.forEach(function (box) {
      box.addEventListener('change', function () {
        set({ candidateRoles: roleBoxes.filter(function (b) {
          return b.checked;
        }).map(function (b) {
          return b.value;
        }).join(' ') });
      });
    });
    laneRole.addEventListener('change', function () {
      set({ role: laneRole.value });
    });
  }

  // A lane stands for a role: its `role` property, else (the older convention) its id after Lane_.
  function laneRoleOf(bo) {
    var role = (readProperties(bo).role || '').trim();
    if (role) {
      return role;
    }
    return /^Lane_./.test(bo.id || '') ? bo.id.slice(5) : '';
  }

  window.PressflowPanel = { module: SetPropertyModule, attach: attach };
}());
