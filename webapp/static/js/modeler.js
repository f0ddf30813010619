// PressFlow modeler: the bpmn-js / dmn-js editors of /models, with drafts, validation and deployment on the server.
//
// The page gives its settings in <script type="application/json" id="modeler-config"> (URLs, translated texts) and
// the CSRF token in <meta name="csrf-token">, sent back in the X-CSRFToken header. The BPMN editor's properties
// panel has a PressFlow group (form, deadline, roles; vendor/pressflow-properties-panel.js, built from
// webapp/assets/pressflow-properties.mjs), which writes every value into the XML.
// The bpmn.io watermark stays visible, as its licence asks.
(function () {
  'use strict';

  var configNode = document.getElementById('modeler-config');
  if (!configNode) {
    return;
  }
  var config = JSON.parse(configNode.textContent);
  var text = config.text;
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrfToken = csrfMeta ? csrfMeta.getAttribute('content') : '';
  var root = document.getElementById('modeler');
  var canvasNode = document.getElementById('modeler-canvas');
  var statusNode = document.getElementById('modeler-status');
  var PROBLEM_MARKER = 'pf-problem';
  var state = { dirty: false, problemIds: [] };

  // --- small helpers -----------------------------------------------------------------------------

  function fmt(template) {
    var args = Array.prototype.slice.call(arguments, 1);
    return template.replace(/%s/g, function () {
      return args.length ? String(args.shift()) : '';
    });
  }

  function say(message, kind) {
    statusNode.textContent = message;
    statusNode.setAttribute('data-kind', kind || 'info');
  }

  function localTime(iso) {
    var lang = document.documentElement.lang || 'zh-CN';
    return new Date(iso).toLocaleString(lang, { timeZone: 'Asia/Shanghai', hour12: false });
  }

  function getText(url) {
    return window.fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/xml' } })
      .then(function (response) {
        if (response.status === 404) {
          return null;
        }
        if (!response.ok) {
          throw new Error(url + ' → ' + response.status);
        }
        return response.text();
      });
  }

  function post(url, body) {
    return window.fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRFToken': csrfToken },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (json) {
        return { status: response.status, ok: response.ok, body: json };
      });
    });
  }

  function errorText(answer) {
    var error = answer.body && answer.body.error;
    if (!error) {
      return String(answer.status);
    }
    var fields = error.fields ? Object.keys(error.fields).map(function (k) {
      return error.fields[k].join(' ');
    }).join(' ') : '';
    return error.message + (fields ? '：' + fields : '');
  }

  function download(filename, content, type) {
    var link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([content], { type: type }));
    link.download = filename;
    document.body.appendChild(link);
    link.click();
    window.setTimeout(function () {
      URL.revokeObjectURL(link.href);
      link.remove();
    }, 0);
  }

  function chinese() {
    return (document.documentElement.lang || '').indexOf('zh') === 0;
  }

  function markDirty() {
    state.dirty = true;
    root.setAttribute('data-dirty', '1');
  }

  function markClean() {
    state.dirty = false;
    root.removeAttribute('data-dirty');
  }

  // --- the two editors behind one small interface ------------------------------------------------

  function bpmnEditor(descriptor) {
    var panel = window.PressflowPropertiesPanel;
    var lint = window.PressflowLint;
    var modules = [panel.BpmnPropertiesPanelModule, panel.BpmnPropertiesProviderModule, panel.PressflowModule];
    if (chinese() && window.PressflowBpmnChinese) {
      modules.push(window.PressflowBpmnChinese);
    }
    var options = {
      container: canvasNode,
      keyboard: { bind: true },
      moddleExtensions: { spiffworkflow: descriptor },
      propertiesPanel: { parent: '#modeler-properties', layout: { groups: { pressflow: { open: true } } } },
      pressflow: config.pressflow
    };
    if (lint) {
      modules.push(lint.BpmnLintModule);
      options.linting = { bpmnlint: lint.lintConfig, active: true };
    }
    options.additionalModules = modules;
    var modeler = new window.BpmnJS(options);
    modeler.on('commandStack.changed', markDirty);
    // What was typed into the properties panel a moment ago is written before the XML is read.
    function flushPanel() {
      modeler.get('debounceInput').flush();
    }
    return {
      modeler: modeler,
      extension: 'bpmn',
      open: function (xml) {
        return modeler.importXML(xml).then(function (result) {
          modeler.get('canvas').zoom('fit-viewport', 'auto');
          return result.warnings || [];
        });
      },
      xml: function () {
        flushPanel();
        return modeler.saveXML({ format: true }).then(function (r) {
          return r.xml;
        });
      },
      svg: function () {
        flushPanel();
        return modeler.saveSVG().then(function (r) {
          return r.svg;
        });
      },
      commandStack: function () {
        return modeler.get('commandStack');
      },
      viewer: function () {
        return modeler;
      },
      reveal: function (id) {
        var element = modeler.get('elementRegistry').get(id);
        if (!element) {
          return false;
        }
        var canvas = modeler.get('canvas');
        if (canvas.zoom() < 0.8 && !element.waypoints) {
          canvas.zoom(1, { x: element.x + element.width / 2, y: element.y + element.height / 2 });
        }
        canvas.scrollToElement(element);
        modeler.get('selection').select(element);
        return true;
      }
    };
  }

  function dmnEditor() {
    var options = { container: canvasNode, common: { keyboard: { bind: true } } };
    if (chinese() && window.PressflowDmnChinese) {
      // dmn-js takes additional modules per view, not from `common`
      ['drd', 'decisionTable', 'literalExpression', 'boxedExpression'].forEach(function (view) {
        options[view] = { additionalModules: [window.PressflowDmnChinese] };
      });
    }
    var modeler = new window.DmnJS(options);
    var watched = [];
    modeler.on('views.changed', function () {
      var viewer = modeler.getActiveViewer();
      if (viewer && watched.indexOf(viewer) < 0) {
        watched.push(viewer);
        viewer.on('elements.changed', markDirty);
      }
      renderViewTabs(modeler);
    });
    function openTable() {
      var table = modeler.getViews().filter(function (v) {
        return v.type === 'decisionTable';
      })[0];
      return table ? modeler.open(table) : Promise.resolve();
    }
    return {
      modeler: modeler,
      extension: 'dmn',
      open: function (xml) {
        return modeler.importXML(xml).then(function (result) {
          return openTable().then(function () {
            return result.warnings || [];
          });
        });
      },
      xml: function () {
        return modeler.saveXML({ format: true }).then(function (r) {
          return r.xml;
        });
      },
      svg: null,
      commandStack: function () {
        var viewer = modeler.getActiveViewer();
        return viewer ? viewer.get('commandStack') : null;
      },
      viewer: function () {
        return modeler.getActiveViewer();
      },
      reveal: function (id) {
        var view = modeler.getViews().filter(function (v) {
          return v.element && v.element.id === id;
        })[0];
        if (view) {
          modeler.open(view);
          return true;
        }
        return false;
      }
    };
  }

  function renderViewTabs(modeler) {
    var tabs = document.getElementById('dmn-views');
    if (!tabs) {
      return;
    }
    var active = modeler.getActiveView();
    tabs.textContent = '';
    modeler.getViews().forEach(function (view) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'btn dmn-view';
      button.textContent = (view.type === 'drd' ? text.drd : text.table) + (view.name ? '：' + view.name : '');
      button.setAttribute('aria-pressed', String(active === view));
      button.addEventListener('click', function () {
        modeler.open(view);
      });
      tabs.appendChild(button);
    });
  }

  // --- problems on the diagram ----------------------------------------------------------------

  function clearProblems(editor) {
    var viewer = editor.viewer();
    if (viewer && viewer.get && hasService(viewer, 'overlays')) {
      viewer.get('overlays').remove({ type: PROBLEM_MARKER });
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      state.problemIds.forEach(function (id) {
        if (registry.get(id)) {
          canvas.removeMarker(id, PROBLEM_MARKER);
        }
      });
    }
    state.problemIds = [];
  }

  function hasService(viewer, name) {
    try {
      return !!viewer.get(name, false);
    } catch (error) {
      return false;
    }
  }

  function showProblems(editor, problems) {
    clearProblems(editor);
    var list = document.getElementById('problems-list');
    var summary = document.getElementById('problems-summary');
    list.textContent = '';
    summary.textContent = problems.length ? fmt(text.problemsFound, problems.length) : text.valid;
    summary.setAttribute('data-kind', problems.length ? 'error' : 'success');
    root.setAttribute('data-problems', String(problems.length));
    var viewer = editor.viewer();
    var drawable = viewer && hasService(viewer, 'overlays');
    var registry = drawable ? viewer.get('elementRegistry') : null;
    var counts = {};
    problems.forEach(function (problem) {
      var id = problem.element_id;
      var item = document.createElement('li');
      item.className = 'problem';
      var label = id ? elementLabel(registry, id) : text.wholeModel;
      if (id) {
        var button = document.createElement('button');
        button.type = 'button';
        button.className = 'linklike problem-element';
        button.setAttribute('data-element-id', id);
        button.textContent = label;
        button.addEventListener('click', function () {
          if (!editor.reveal(id)) {
            say(fmt(text.elementMissing, id), 'warning');
          }
        });
        item.appendChild(button);
      } else {
        var whole = document.createElement('strong');
        whole.textContent = label;
        item.appendChild(whole);
      }
      item.appendChild(document.createTextNode('：' + problem.message));
      list.appendChild(item);
      if (registry && id && registry.get(id)) {
        counts[id] = (counts[id] || []).concat([problem.message]);
      }
    });
    Object.keys(counts).forEach(function (id) {
      viewer.get('canvas').addMarker(id, PROBLEM_MARKER);
      var badge = document.createElement('span');
      badge.className = 'pf-problem-badge';
      badge.title = counts[id].join('\n');
      badge.textContent = String(counts[id].length);
      viewer.get('overlays').add(id, PROBLEM_MARKER, { position: { top: -10, right: 10 }, html: badge });
      state.problemIds.push(id);
    });
  }

  function elementLabel(registry, id) {
    var element = registry && registry.get(id);
    var name = element && element.businessObject && element.businessObject.name;
    return name ? name + '（' + id + '）' : id;
  }

  // --- the page's actions ----------------------------------------------------------------------

  function wire(editor) {
    function act(name, handler) {
      var button = root.querySelector('[data-action="' + name + '"]');
      if (button) {
        button.addEventListener('click', handler);
      }
    }

    act('undo', function () {
      var stack = editor.commandStack();
      if (stack) {
        stack.undo();
      }
    });
    act('redo', function () {
      var stack = editor.commandStack();
      if (stack) {
        stack.redo();
      }
    });
    act('save-draft', function () {
      saveDraft(editor);
    });
    act('download-xml', function () {
      editor.xml().then(function (xml) {
        download(config.fileName, xml, 'application/xml');
      });
    });
    act('download-svg', function () {
      if (editor.svg) {
        editor.svg().then(function (svg) {
          download(config.fileName.replace(/\.\w+$/, '.svg'), svg, 'image/svg+xml');
        });
      }
    });
    act('validate', function () {
      validate(editor);
    });
    act('load-deployed', function () {
      load(editor, config.urls.source, text.openedDeployed);
    });
    act('discard-draft', function () {
      post(config.urls.discardDraft).then(function () {
        var banner = document.getElementById('draft-banner');
        if (banner) {
          banner.hidden = true;
        }
        return config.urls.source ? load(editor, config.urls.source, text.draftDiscarded) : null;
      });
    });

    var fileInput = document.getElementById('open-file');
    if (fileInput) {
      fileInput.addEventListener('change', function () {
        var file = fileInput.files[0];
        if (!file) {
          return;
        }
        file.text().then(function (xml) {
          return openXml(editor, xml, fmt(text.openedFile, file.name));
        }).then(function () {
          markDirty();
        });
        fileInput.value = '';
      });
    }

    document.getElementById('deploy-form').addEventListener('submit', function (event) {
      event.preventDefault();
      deploy(editor);
    });

    document.addEventListener('keydown', function (event) {
      if ((event.ctrlKey || event.metaKey) && !event.altKey && event.key.toLowerCase() === 's') {
        event.preventDefault();
        saveDraft(editor);
      }
    });
    window.addEventListener('beforeunload', function (event) {
      if (state.dirty) {
        event.preventDefault();
        event.returnValue = text.unsaved;
      }
    });
  }

  function saveDraft(editor) {
    return editor.xml().then(function (xml) {
      return post(config.urls.saveDraft, { xml: xml });
    }).then(function (answer) {
      if (answer.ok) {
        markClean();
        say(fmt(text.draftSaved, localTime(answer.body.saved_at)), 'success');
      } else {
        say(fmt(text.draftFailed, errorText(answer)), 'error');
      }
    }).catch(function () {
      say(text.network, 'error');
    });
  }

  function validate(editor) {
    say(text.validating);
    return editor.xml().then(function (xml) {
      return post(config.urls.validate, { xml: xml });
    }).then(function (answer) {
      if (!answer.ok) {
        say(errorText(answer), 'error');
        return;
      }
      say('');
      showProblems(editor, answer.body.problems || []);
    }).catch(function () {
      say(text.network, 'error');
    });
  }

  function deploy(editor) {
    var note = document.getElementById('deploy-note');
    var result = document.getElementById('deploy-result');
    if (!note.value.trim()) {
      result.textContent = text.noteRequired;
      note.focus();
      return Promise.resolve();
    }
    result.textContent = text.deploying;
    return editor.xml().then(function (xml) {
      return post(config.urls.deploy, { xml: xml, note: note.value });
    }).then(function (answer) {
      if (answer.status === 422 && answer.body.problems) {
        showProblems(editor, answer.body.problems);
        result.textContent = fmt(text.deployFailed, answer.body.error.message);
        result.setAttribute('data-kind', 'error');
        return;
      }
      if (!answer.ok) {
        result.textContent = fmt(text.deployFailed, errorText(answer));
        result.setAttribute('data-kind', 'error');
        return;
      }
      markClean();
      showProblems(editor, []);
      note.value = '';
      result.textContent = answer.body.message + ' ';
      result.setAttribute('data-kind', 'success');
      var link = document.createElement('a');
      link.href = answer.body.url || config.urls.versions;
      link.textContent = text.versionsLink;
      result.appendChild(link);
      var banner = document.getElementById('draft-banner');
      if (banner) {
        banner.hidden = true;
      }
    }).catch(function () {
      result.textContent = text.network;
      result.setAttribute('data-kind', 'error');
    });
  }

  function openXml(editor, xml, message) {
    clearProblems(editor);
    return editor.open(xml).then(function (warnings) {
      say(warnings.length ? message + ' ' + fmt(text.importWarnings, warnings.length) : message,
        warnings.length ? 'warning' : 'info');
      if (warnings.length && window.console) {
        window.console.warn('PressFlow modeler import warnings:', warnings);
      }
      root.setAttribute('data-ready', '1');
    }).catch(function (error) {
      say(fmt(text.loadFailed, error.message), 'error');
      throw error;
    });
  }

  function load(editor, url, message) {
    return getText(url).then(function (xml) {
      return openXml(editor, xml, message);
    }).then(markClean);
  }

  function start() {
    if ((config.kind === 'bpmn' && (typeof window.BpmnJS !== 'function' || !window.PressflowPropertiesPanel)) ||
        (config.kind === 'dmn' && typeof window.DmnJS !== 'function') || typeof window.fetch !== 'function') {
      say(fmt(text.loadFailed, 'editor script missing'), 'error');
      return;
    }
    say(text.loading);
    var ready = config.kind === 'bpmn'
      ? getText(config.moddle).then(function (json) {
        return bpmnEditor(JSON.parse(json));
      })
      : Promise.resolve(dmnEditor());
    ready.then(function (editor) {
      window.PressflowModeler = editor;
      wire(editor);
      if (config.draft) {
        return load(editor, config.urls.draft, fmt(text.openedDraft, localTime(config.draft.savedAt)));
      }
      if (config.urls.source) {
        return load(editor, config.urls.source, text.openedDeployed);
      }
      return openXml(editor, config.blank, text.openedBlank).then(markClean);
    }).catch(function (error) {
      say(fmt(text.loadFailed, error.message), 'error');
    });
  }

  start();
}());
