// 常用语 picker: choosing a phrase in `select.phrase-select[data-phrase-target]` puts it into that textarea.
// An empty textarea gets the phrase; one with text gets it appended on a new line, so nothing typed is lost.
(function () {
  'use strict';

  if (window.PressflowPhrases) {
    return; // the partial may be included more than once on a page
  }

  function fill(select) {
    var target = document.getElementById(select.getAttribute('data-phrase-target'));
    var phrase = select.value;
    if (!target || !phrase) {
      return;
    }
    var current = target.value.replace(/\s+$/, '');
    target.value = current ? current + '\n' + phrase : phrase;
    select.value = '';
    target.focus();
    target.dispatchEvent(new Event('input', { bubbles: true }));
  }

  function start() {
    var selects = document.querySelectorAll('select.phrase-select[data-phrase-target]');
    Array.prototype.forEach.call(selects, function (select) {
      select.addEventListener('change', function () { fill(select); });
    });
  }

  window.PressflowPhrases = { fill: fill };
  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', start);
  } else {
    start();
  }
})();
