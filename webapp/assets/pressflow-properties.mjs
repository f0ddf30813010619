// The PressFlow group of the bpmn-js properties panel: for a user task its form (formKey), its deadline in working
// days (dueInWorkdays) or wall-clock hours (dueInHours, for emergency releases) and its candidate roles (candidateRoles); for a lane the role it stands for (role).
//
// The values live in spiffworkflow:properties/property inside bpmn:extensionElements (spiffworkflow-moddle.json) and
// change through one command each (`pressflow.setProperties`), so undo/redo covers them. The choices (form keys,
// roles) and every text come from the page, in its language, as the modeler's `pressflow` option (service
// `config.pressflow`).
//
// Source, not a vendored file: scripts/build_assets.mjs bundles it with bpmn-js-properties-panel and
// @bpmn-io/properties-panel (one preact for both) into webapp/static/vendor/pressflow-properties-panel.js, which sets
// `window.PressflowPropertiesPanel = { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, PressflowModule }`.

import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, useService } from 'bpmn-js-properties-panel';
import {
  CheckboxEntry, NumberFieldEntry, SelectEntry, isCheckboxEntryEdited, isNumberFieldEntryEdited, isSelectEntryEdited,
} from '@bpmn-io/properties-panel';
import { h } from '@bpmn-io/properties-panel/preact';
import { TextFieldEntry, isTextFieldEntryEdited } from '@bpmn-io/properties-panel';  // 抄送 entries

const PRIORITY = 500;

// --- reading and writing spiffworkflow:properties ----------------------------------------------------

function spiffProperties(bo) {
  const extension = bo.get ? bo.get('extensionElements') : null;
  return (extension ? extension.get('values') || [] : [])
    .find((value) => value.$instanceOf && value.$instanceOf('spiffworkflow:Properties')) || null;
}

function readProperties(bo) {
  const found = {};
  const properties = spiffProperties(bo);
  (properties ? properties.get('properties') : []).forEach((p) => { found[p.name] = p.value || ''; });
  return found;
}

// A lane stands for a role: its `role` property, else (the older convention) its id after Lane_.
function laneRoleOf(bo) {
  const role = (readProperties(bo).role || '').trim();
  if (role) return role;
  return /^Lane_./.test(bo.id || '') ? bo.id.slice(5) : '';
}

function SetPropertiesHandler(modeling, moddle) {
  this._modeling = modeling;
  this._moddle = moddle;
}
SetPropertiesHandler.$inject = ['modeling', 'moddle'];

SetPropertiesHandler.prototype.preExecute = function (context) {
  const modeling = this._modeling;
  const moddle = this._moddle;
  const { element, values } = context;
  const bo = element.businessObject;
  const clearing = Object.values(values).every((value) => value === '');
  if (clearing && !spiffProperties(bo)) return;
  let extension = bo.get('extensionElements');
  if (!extension) {
    extension = moddle.create('bpmn:ExtensionElements', { values: [] });
    modeling.updateModdleProperties(element, bo, { extensionElements: extension });
  }
  let properties = spiffProperties(bo);
  if (!properties) {
    properties = moddle.create('spiffworkflow:Properties', { properties: [] });
    modeling.updateModdleProperties(element, extension, { values: [properties, ...extension.get('values')] });
  }
  Object.entries(values).forEach(([name, value]) => {
    const existing = properties.get('properties').find((p) => p.name === name);
    if (existing && value === '') {
      modeling.updateModdleProperties(element, properties, {
        properties: properties.get('properties').filter((p) => p !== existing),
      });
    } else if (existing) {
      modeling.updateModdleProperties(element, existing, { value });
    } else if (value !== '') {
      const created = moddle.create('spiffworkflow:Property', { name, value });
      modeling.updateModdleProperties(element, properties, { properties: [...properties.get('properties'), created] });
    }
  });
};

function registerCommand(commandStack) {
  commandStack.registerHandler('pressflow.setProperties', SetPropertiesHandler);
}
registerCommand.$inject = ['commandStack'];

// --- the entries ----------------------------------------------------------------------------------

function usePanelConfig() {
  return useService('config.pressflow');
}

function useSetter(element) {
  const commandStack = useService('commandStack');
  return (values) => commandStack.execute('pressflow.setProperties', { element, values });
}

// The choices, with the element's current value kept (and marked) when the page does not know it.
function choices(known, current, text) {
  const options = [{ value: '', label: text.unset }, ...known];
  if (current && !known.some((option) => option.value === current)) {
    options.push({ value: current, label: text.unknownValue.replace('%s', current) });
  }
  return options;
}

function FormKeyEntry({ element, id }) {
  const set = useSetter(element);
  const { forms, text } = usePanelConfig();
  return h(SelectEntry, {
    element, id, label: text.form,
    getValue: () => readProperties(element.businessObject).formKey || '',
    setValue: (value) => set({ formKey: value || '' }),
    getOptions: () => choices(forms, readProperties(element.businessObject).formKey, text),
  });
}

// One entry per deadline property: `name` is dueInWorkdays or dueInHours (the model rules refuse both at once).
function DueEntry({ element, id, name, label }) {
  const set = useSetter(element);
  const debounce = useService('debounceInput');
  const { text } = usePanelConfig();
  return h(NumberFieldEntry, {
    element, id, label: text[label], debounce, min: 0, step: 1,
    getValue: () => readProperties(element.businessObject)[name] || '',
    setValue: (value) => {
      const plain = value === undefined || value === null ? '' : String(value).trim();
      if (plain === '' || /^\d+$/.test(plain)) set({ [name]: plain === '' ? '' : String(parseInt(plain, 10)) });
    },
    validate: (value) => {
      const plain = value === undefined || value === null ? '' : String(value).trim();
      return plain === '' || /^\d+$/.test(plain) ? null : text.dueInvalid;
    },
  });
}

function RoleEntry({ element, id, role }) {
  const set = useSetter(element);
  const roles = () => (readProperties(element.businessObject).candidateRoles || '').split(/\s+/).filter(Boolean);
  return h(CheckboxEntry, {
    element, id, label: `${role.label}（${role.value}）`,
    getValue: () => roles().includes(role.value),
    setValue: (checked) => {
      const others = roles().filter((r) => r !== role.value);
      set({ candidateRoles: (checked ? [...others, role.value] : others).join(' ') });
    },
  });
}

function LaneRoleEntry({ element, id }) {
  const set = useSetter(element);
  const { roles, text } = usePanelConfig();
  const known = roles.map((r) => ({ value: r.value, label: `${r.label}（${r.value}）` }));
  return h(SelectEntry, {
    element, id, label: text.laneRole, description: text.laneRoleHelp,
    getValue: () => laneRoleOf(element.businessObject),
    setValue: (value) => set({ role: value || '' }),
    getOptions: () => choices(known, laneRoleOf(element.businessObject), text),
  });
}

// --- 会签 / 或签 / 依次审批 (a multi-instance user task) ---------------------------------------------
// One approver per task from the loop's input list. 会签: all in parallel, every one must act; 或签: in parallel,
// the first decision ends the step (completionCondition on the step's decision); 依次审批: one after another
// (isSequential="true"). The choice is one command (`pressflow.setSignRule`), so undo/redo covers it.

function loopOf(bo) {
  const loop = bo.get ? bo.get('loopCharacteristics') : null;
  return loop && loop.$instanceOf && loop.$instanceOf('bpmn:MultiInstanceLoopCharacteristics') ? loop : null;
}

function signRuleOf(loop) {
  if (loop.get('isSequential')) return 'sequential';
  return loop.get('completionCondition') ? 'any' : 'all';
}

// 或签 ends the step once one approver has decided: the decision is stored as <task id>_decision (the form's
// decision named after its step) and collected through the loop's output item.
function anyCondition(bo, loop) {
  const output = loop.get('outputDataItem');
  const name = (output && (output.get('name') || output.get('id'))) || `${bo.id}_decision`;
  return `${name} is not None`;
}

function SetSignRuleHandler(modeling, moddle) {
  this._modeling = modeling;
  this._moddle = moddle;
}
SetSignRuleHandler.$inject = ['modeling', 'moddle'];

SetSignRuleHandler.prototype.preExecute = function (context) {
  const { element, rule } = context;
  const bo = element.businessObject;
  const loop = loopOf(bo);
  if (!loop) return;
  const condition = rule === 'any'
    ? this._moddle.create('bpmn:FormalExpression', { body: anyCondition(bo, loop) }) : undefined;
  this._modeling.updateModdleProperties(element, loop, {
    isSequential: rule === 'sequential', completionCondition: condition,
  });
};

function registerSignRuleCommand(commandStack) {
  commandStack.registerHandler('pressflow.setSignRule', SetSignRuleHandler);
}
registerSignRuleCommand.$inject = ['commandStack'];

function SignRuleEntry({ element, id }) {
  const commandStack = useService('commandStack');
  const { text } = usePanelConfig();
  return h(SelectEntry, {
    element, id, label: text.signRule, description: text.signRuleHelp,
    getValue: () => signRuleOf(loopOf(element.businessObject)),
    setValue: (rule) => commandStack.execute('pressflow.setSignRule', { element, rule }),
    getOptions: () => [
      { value: 'all', label: text.signAll }, { value: 'any', label: text.signAny },
      { value: 'sequential', label: text.signSequential },
    ],
  });
}

function signRuleEntries(element) {
  if (!loopOf(element.businessObject)) return [];
  return [{ id: 'pressflow-signRule', element, component: SignRuleEntry, isEdited: () => true }];
}

// --- the provider ---------------------------------------------------------------------------------

function is(element, type) {
  const bo = element && element.businessObject;
  return !!bo && bo.$instanceOf(type);
}

function taskGroup(element, { roles, text }) {
  const entries = [
    { id: 'pressflow-formKey', element, component: FormKeyEntry, isEdited: isSelectEntryEdited },
    {
      id: 'pressflow-dueInWorkdays', element, name: 'dueInWorkdays', label: 'due', component: DueEntry,
      isEdited: isNumberFieldEntryEdited,
    },
    {
      id: 'pressflow-dueInHours', element, name: 'dueInHours', label: 'dueHours', component: DueEntry,
      isEdited: isNumberFieldEntryEdited,
    },
    ...signRuleEntries(element),
    ...roles.map((role) => ({
      id: `pressflow-role-${role.value}`, element, role, component: RoleEntry, isEdited: isCheckboxEntryEdited,
    })),
  ];
  return { id: 'pressflow', label: text.group, entries };
}

function laneGroup(element, { text }) {
  return {
    id: 'pressflow', label: text.group,
    entries: [{ id: 'pressflow-laneRole', element, component: LaneRoleEntry, isEdited: isSelectEntryEdited }],
  };
}

function PressflowPropertiesProvider(propertiesPanel, panelConfig) {
  this._config = panelConfig;
  propertiesPanel.registerProvider(PRIORITY, this);
}
PressflowPropertiesProvider.$inject = ['propertiesPanel', 'config.pressflow'];

PressflowPropertiesProvider.prototype.getGroups = function (element) {
  return (groups) => {
    const group = is(element, 'bpmn:UserTask') ? taskGroup(element, this._config)
      : is(element, 'bpmn:Lane') ? laneGroup(element, this._config) : null;
    if (group) groups.splice(Math.min(1, groups.length), 0, group);  // right after "General"
    return groups;
  };
};

// The panel waits for a pause in typing before it writes a value; a person who types a deadline and clicks 保存草稿
// at once must not lose it. This stands in for the panel's debounceInput service and adds flush(), which the editor
// calls before it reads the XML (save, validate, deploy, download).
const DEBOUNCE_MS = 300;

function flushableDebounce() {
  const pending = new Map();  // run -> timer
  function debounce(fn) {
    let args = [];
    const run = () => {
      pending.delete(run);
      fn(...args);
    };
    return (...latest) => {
      args = latest;
      clearTimeout(pending.get(run));
      pending.set(run, setTimeout(run, DEBOUNCE_MS));
    };
  }
  debounce.flush = () => {
    [...pending].forEach(([run, timer]) => {
      clearTimeout(timer);
      run();
    });
  };
  return debounce;
}

// --- 抄送 on completion (ccRoles, ccUsers) ------------------------------------------------------------
// A separate provider appends two entries to a user task's PressFlow group: the role@unit recipients (ccRoles:
// @applying = the applying unit, @office = the Information Office, or a unit code; a bare role = where that role's
// tasks are held) and the usernames (ccUsers) copied for information when the step completes. Texts come from the
// page as `config.pressflow.cc`; the server checks the same rules (engine/modeling/model_rules.py).

const CC_PRIORITY = PRIORITY - 1;  // after the PressFlow group exists
const CC_ROLE_SPEC = /^([a-z_]{1,40})(@[A-Za-z0-9_.-]{1,40})?$/;
const CC_USERNAME = /^[A-Za-z0-9_.-]{2,60}$/;

function ccWords(value) {
  return (value || '').split(/\s+/).filter(Boolean);
}

function ccProblem(name, value, { roles, cc }) {
  const known = roles.map((r) => r.value);
  const bad = ccWords(value).find((word) => (name === 'ccRoles'
    ? !CC_ROLE_SPEC.test(word) || !known.includes(word.split('@')[0]) : !CC_USERNAME.test(word)));
  return bad ? (name === 'ccRoles' ? cc.rolesInvalid : cc.usersInvalid).replace('%s', bad) : null;
}

function CcEntry({ element, id, name }) {
  const set = useSetter(element);
  const debounce = useService('debounceInput');
  const config = usePanelConfig();
  const texts = config.cc[name];
  return h(TextFieldEntry, {
    element, id, label: texts.label, description: texts.help, debounce,
    getValue: () => readProperties(element.businessObject)[name] || '',
    setValue: (value) => {
      if (!ccProblem(name, value, config)) set({ [name]: ccWords(value).join(' ') });
    },
    validate: (value) => ccProblem(name, value, config),
  });
}

function PressflowCcProvider(propertiesPanel, panelConfig) {
  this._config = panelConfig;
  propertiesPanel.registerProvider(CC_PRIORITY, this);
}
PressflowCcProvider.$inject = ['propertiesPanel', 'config.pressflow'];

PressflowCcProvider.prototype.getGroups = function (element) {
  return (groups) => {
    const group = groups.find((g) => g.id === 'pressflow');
    if (group && this._config.cc && is(element, 'bpmn:UserTask')) {
      group.entries.push(...['ccRoles', 'ccUsers'].map((name) => ({
        id: `pressflow-${name}`, element, name, component: CcEntry, isEdited: isTextFieldEntryEdited,
      })));
    }
    return groups;
  };
};
// --- end of 抄送 ----------------------------------------------------------------------------------------

const PressflowModule = {
  __init__: ['pressflowSetProperties', 'pressflowSetSignRule', 'pressflowPropertiesProvider', 'pressflowCcProvider'],
  pressflowSetProperties: ['type', registerCommand],
  pressflowSetSignRule: ['type', registerSignRuleCommand],
  pressflowPropertiesProvider: ['type', PressflowPropertiesProvider],
  pressflowCcProvider: ['type', PressflowCcProvider],
  debounceInput: ['factory', flushableDebounce],
};

window.PressflowPropertiesPanel = { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, PressflowModule };
