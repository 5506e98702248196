/*
 * Shegong front-end behaviour.
 *
 * Plain ES2019, no dependencies, no eval or inline handlers, so it runs under
 * the CSP `script-src 'self'`. Features:
 *   - .region-picker: cascading province → … → village selects with search;
 *   - form[data-confirm]: confirmation dialog before submitting;
 *   - select/input[data-autosubmit]: submit the form when the value changes;
 *   - [data-copy]: copy another element's text to the clipboard.
 *
 * Region pickers are set up on DOMContentLoaded. The other features use event
 * delegation on the document, so they need no set-up at all.
 */
(function () {
  'use strict';

  const REGIONS_API = '/api/v1/regions';

  // Administrative levels, top-down, as named in the API's `level` field.
  const LEVELS = ['province', 'city', 'county', 'township', 'village'];
  // Accessible names for each level's <select>; a picker may override them
  // with data-levels="Province,City,County,Township,Village" (same order).
  const DEFAULT_LEVEL_LABELS = ['省份', '城市', '区县', '乡镇/街道', '村/社区'];

  const SEARCH_DELAY_MS = 250;

  // ---------------------------------------------------------------------
  // JSON fetching
  // ---------------------------------------------------------------------

  // Region data does not change while a page is open, so responses are kept
  // (as promises, which also merges concurrent requests for the same URL,
  // e.g. several pickers on one page all loading the top regions).
  const responseCache = new Map();

  function fetchJSON(url) {
    return fetch(url, {
      credentials: 'same-origin',
      headers: { Accept: 'application/json' }
    }).then(function (response) {
      if (!response.ok) {
        throw new Error('HTTP ' + response.status + ' for ' + url);
      }
      return response.json();
    });
  }

  function fetchJSONCached(url) {
    let promise = responseCache.get(url);
    if (!promise) {
      promise = fetchJSON(url);
      responseCache.set(url, promise);
      // Forget failures so that a later attempt can succeed.
      promise.catch(function () {
        responseCache.delete(url);
      });
    }
    return promise;
  }

  function itemsOf(data) {
    return data && Array.isArray(data.items) ? data.items : [];
  }

  function loadTopRegions() {
    return fetchJSONCached(REGIONS_API).then(itemsOf);
  }

  function loadChildren(code) {
    return fetchJSONCached(REGIONS_API + '/' + encodeURIComponent(code) + '/children').then(itemsOf);
  }

  function loadRegion(code) {
    return fetchJSONCached(REGIONS_API + '/' + encodeURIComponent(code));
  }

  function searchRegions(query) {
    return fetchJSON(REGIONS_API + '?q=' + encodeURIComponent(query)).then(itemsOf);
  }

  // ---------------------------------------------------------------------
  // Region picker
  // ---------------------------------------------------------------------

  let pickerCount = 0;

  function el(tag, className) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    return node;
  }

  class RegionPicker {
    constructor(root, input) {
      this.root = root;
      this.input = input;
      this.labels = {
        choose: root.dataset.choose || '请选择',
        search: root.dataset.search || '搜索地区名称',
        none: root.dataset.none || '无匹配结果',
        error: root.dataset.error || '地区数据加载失败，请刷新页面重试'
      };
      const levelLabels = (root.dataset.levels || '').split(',').map(function (s) {
        return s.trim();
      });
      this.levelLabels = DEFAULT_LEVEL_LABELS.map(function (label, i) {
        return levelLabels[i] || label;
      });

      this.known = new Map(); // code -> Region, for every region shown so far
      // Bumped whenever the select row is rebuilt; an async step that finds
      // the number changed was overtaken by a newer choice and must not
      // touch the DOM.
      this.generation = 0;
      this.searchTimer = 0;
      this.searchSeq = 0; // same idea, for search responses
      this.results = [];
      this.activeIndex = -1;

      this.id = 'region-picker-' + (++pickerCount);
      this.buildDom();
    }

    buildDom() {
      const root = this.root;

      // The server-rendered <noscript> text field must never submit a second
      // `region_code`, and UI left over from an earlier set-up goes too.
      Array.prototype.slice.call(root.children).forEach(function (child) {
        if (child.tagName === 'NOSCRIPT' || child.hasAttribute('data-region-ui')) {
          child.remove();
        }
      });

      const wrap = el('div', 'region-search-wrap');
      const search = el('input', 'region-search');
      search.type = 'search';
      search.autocomplete = 'off';
      search.spellcheck = false;
      search.placeholder = this.labels.search;
      search.setAttribute('aria-label', this.labels.search);
      search.setAttribute('role', 'combobox');
      search.setAttribute('aria-autocomplete', 'list');
      search.setAttribute('aria-expanded', 'false');
      search.setAttribute('aria-controls', this.id + '-results');
      // Lets a template point <label for="<input id>-search"> at the picker.
      if (this.input.id && !document.getElementById(this.input.id + '-search')) {
        search.id = this.input.id + '-search';
      }

      const list = el('ul', 'region-results');
      list.id = this.id + '-results';
      list.setAttribute('role', 'listbox');
      list.setAttribute('aria-label', this.labels.search);
      list.hidden = true;

      wrap.appendChild(search);
      wrap.appendChild(list);

      const selects = el('div', 'region-selects');
      const error = el('p', 'field-error region-error');
      error.setAttribute('role', 'alert');
      error.hidden = true;

      [wrap, selects, error].forEach(function (node) {
        node.setAttribute('data-region-ui', '');
        // The generated controls are an implementation detail: keep their
        // change/input events from reaching the form (e.g. data-autosubmit).
        // Only the hidden input's change event, fired by setValue(), should be
        // seen from outside.
        node.addEventListener('change', stopPropagation);
        node.addEventListener('input', stopPropagation);
        root.appendChild(node);
      });

      this.search = search;
      this.list = list;
      this.selects = selects;
      this.error = error;

      search.addEventListener('input', this.onSearchInput.bind(this));
      search.addEventListener('keydown', this.onSearchKeydown.bind(this));
      search.addEventListener('blur', this.closeList.bind(this));
      search.addEventListener('focus', this.onSearchFocus.bind(this));
      // mousedown (not click) and preventDefault keep the focus in the search
      // box, so its blur handler does not close the list under the pointer.
      list.addEventListener('mousedown', this.onListMousedown.bind(this));
    }

    start() {
      // The hidden input's own value wins over data-value: when the browser
      // restores the form (back button) it holds the user's last choice.
      const value = this.input.value || this.root.dataset.value || '';
      this.input.value = value;
      if (!value) {
        this.showTopOnly();
        return;
      }
      const generation = this.generation;
      this.setBusy(true);
      loadRegion(value).then(function (region) {
        // Skip if the user already picked something through the search box.
        if (generation === this.generation) {
          this.buildAlong(region);
        }
      }.bind(this), this.fail.bind(this, generation, true));
    }

    // --- select row -------------------------------------------------------

    levelLabel(level, depth) {
      let i = LEVELS.indexOf(level);
      if (i < 0) {
        i = Math.min(depth, LEVELS.length - 1);
      }
      return this.levelLabels[i];
    }

    addSelect(items, selectedCode) {
      const select = el('select');
      select.add(new Option(this.labels.choose, ''));
      items.forEach(function (region) {
        this.known.set(region.code, region);
        select.add(new Option(region.name, region.code));
      }, this);
      select.value = selectedCode || '';
      const depth = this.selects.children.length;
      select.setAttribute('aria-label', this.levelLabel(items.length ? items[0].level : '', depth));
      select.addEventListener('change', this.onSelectChange.bind(this, select));
      this.selects.appendChild(select);
      return select;
    }

    // Show just the top level, nothing chosen. keepError: leave an error
    // message from an earlier step on screen.
    showTopOnly(keepError) {
      const generation = ++this.generation;
      this.setBusy(true);
      loadTopRegions().then(function (tops) {
        if (generation !== this.generation) {
          return;
        }
        this.selects.textContent = '';
        this.addSelect(tops, '');
        if (!keepError) {
          this.clearError();
        }
        this.setBusy(false);
      }.bind(this), this.fail.bind(this, generation, false));
    }

    // Rebuild the select row along `region`'s path (within the user's scope)
    // and make `region` the value.
    buildAlong(region) {
      const generation = ++this.generation;
      this.setBusy(true);
      loadTopRegions().then(function (tops) {
        if (generation !== this.generation) {
          return null;
        }
        const topCodes = new Set(tops.map(function (r) { return r.code; }));
        const path = Array.isArray(region.path_codes) && region.path_codes.length
          ? region.path_codes
          : [region.code];
        // A user scoped to a county sees that county as the only top region,
        // so the path is followed from there, not from the province.
        let start = -1;
        for (let i = 0; i < path.length; i++) {
          if (topCodes.has(path[i])) {
            start = i;
            break;
          }
        }
        if (start < 0) {
          // Outside the user's scope (should not happen): leave the value
          // alone for the server to judge, and offer a fresh choice.
          this.selects.textContent = '';
          this.addSelect(tops, '');
          this.clearError();
          this.setBusy(false);
          return null;
        }
        // Children lists for every step below the top, plus the region's own
        // children so the user can go one level further.
        const parents = path.slice(start, -1);
        if (region.child_count > 0) {
          parents.push(region.code);
        }
        return Promise.all(parents.map(loadChildren)).then(function (lists) {
          if (generation !== this.generation) {
            return;
          }
          this.selects.textContent = '';
          this.addSelect(tops, path[start]);
          lists.forEach(function (items, i) {
            if (items.length) {
              this.addSelect(items, path[start + i + 1] || '');
            }
          }, this);
          this.known.set(region.code, region);
          this.setValue(region.code);
          this.clearError();
          this.setBusy(false);
        }.bind(this));
      }.bind(this)).catch(this.fail.bind(this, generation, false));
    }

    onSelectChange(select) {
      const generation = ++this.generation;
      // Everything below the changed select belongs to the old choice.
      while (select.nextElementSibling) {
        select.nextElementSibling.remove();
      }
      const code = select.value;
      if (!code) {
        // "Choose" in a lower select means: stop at the level above.
        const above = select.previousElementSibling;
        this.setValue(above ? above.value : '');
        this.setBusy(false);
        return;
      }
      this.setValue(code);
      const region = this.known.get(code);
      if (!region || !(region.child_count > 0)) {
        this.setBusy(false);
        return;
      }
      this.setBusy(true);
      loadChildren(code).then(function (items) {
        if (generation !== this.generation) {
          return;
        }
        if (items.length) {
          this.addSelect(items, '');
        }
        this.clearError();
        this.setBusy(false);
      }.bind(this), this.fail.bind(this, generation, false));
    }

    setValue(code) {
      if (this.input.value !== code) {
        this.input.value = code;
        this.input.dispatchEvent(new Event('change', { bubbles: true }));
      }
    }

    // --- search -------------------------------------------------------------

    cancelSearch() {
      clearTimeout(this.searchTimer);
      this.searchTimer = 0;
      this.searchSeq++;
    }

    onSearchInput() {
      this.cancelSearch();
      const query = this.search.value.trim();
      if (!query) {
        this.results = [];
        this.closeList();
        return;
      }
      this.searchTimer = setTimeout(this.runSearch.bind(this, query), SEARCH_DELAY_MS);
    }

    runSearch(query) {
      this.cancelSearch();
      const seq = this.searchSeq;
      searchRegions(query).then(function (items) {
        if (seq !== this.searchSeq) {
          return;
        }
        this.clearError();
        this.showResults(items);
      }.bind(this), function () {
        if (seq !== this.searchSeq) {
          return;
        }
        this.closeList();
        this.showError();
      }.bind(this));
    }

    showResults(items) {
      this.results = items;
      this.activeIndex = -1;
      this.list.textContent = '';
      if (!items.length) {
        const empty = el('li', 'empty');
        empty.textContent = this.labels.none;
        empty.setAttribute('role', 'option');
        empty.setAttribute('aria-disabled', 'true');
        this.list.appendChild(empty);
      }
      items.forEach(function (region, i) {
        const li = el('li');
        li.id = this.id + '-option-' + i;
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.dataset.index = String(i);
        li.textContent = region.display_path || region.name;
        li.title = li.textContent;
        this.list.appendChild(li);
      }, this);
      this.openList();
    }

    openList() {
      if (document.activeElement !== this.search) {
        return; // the user has moved on; do not pop a list up elsewhere
      }
      this.list.hidden = false;
      this.search.setAttribute('aria-expanded', 'true');
    }

    closeList() {
      this.list.hidden = true;
      this.search.setAttribute('aria-expanded', 'false');
      this.search.removeAttribute('aria-activedescendant');
      this.setActive(-1);
    }

    setActive(index) {
      const options = this.list.querySelectorAll('li[data-index]');
      this.activeIndex = index;
      Array.prototype.forEach.call(options, function (li, i) {
        const active = i === index;
        li.classList.toggle('active', active);
        li.setAttribute('aria-selected', active ? 'true' : 'false');
        if (active) {
          this.search.setAttribute('aria-activedescendant', li.id);
          li.scrollIntoView({ block: 'nearest' });
        }
      }, this);
    }

    onSearchFocus() {
      if (this.results.length && this.search.value.trim()) {
        this.openList();
      }
    }

    onSearchKeydown(event) {
      const open = !this.list.hidden;
      const count = this.results.length;
      switch (event.key) {
        case 'ArrowDown':
        case 'ArrowUp':
          if (!count) {
            return;
          }
          event.preventDefault();
          if (!open) {
            this.openList();
          }
          if (event.key === 'ArrowDown') {
            this.setActive(this.activeIndex + 1 >= count ? 0 : this.activeIndex + 1);
          } else {
            this.setActive(this.activeIndex <= 0 ? count - 1 : this.activeIndex - 1);
          }
          break;
        case 'Enter':
          // Never let Enter in the search box submit the surrounding form.
          event.preventDefault();
          if (this.searchTimer) {
            this.runSearch(this.search.value.trim());
          } else if (open && this.activeIndex >= 0) {
            this.choose(this.activeIndex);
          }
          break;
        case 'Escape':
          if (open) {
            // Close the list only; keep the typed text (the browser's default
            // for type=search would clear it) and keep dialogs open.
            event.preventDefault();
            event.stopPropagation();
            this.closeList();
          }
          break;
        default:
          break;
      }
    }

    onListMousedown(event) {
      event.preventDefault();
      const li = event.target.closest('li[data-index]');
      if (li && event.button === 0) {
        this.choose(Number(li.dataset.index));
      }
    }

    choose(index) {
      const region = this.results[index];
      if (!region) {
        return;
      }
      this.cancelSearch();
      this.results = [];
      this.search.value = '';
      this.closeList();
      this.buildAlong(region);
    }

    // --- state ----------------------------------------------------------

    setBusy(busy) {
      this.root.setAttribute('aria-busy', busy ? 'true' : 'false');
    }

    showError() {
      this.error.textContent = this.labels.error;
      this.error.hidden = false;
    }

    clearError() {
      this.error.hidden = true;
    }

    // Failure of a select-row step. If nothing is shown yet (e.g. the initial
    // region could not be loaded) still offer the top level.
    fail(generation, thenShowTop) {
      if (generation !== this.generation) {
        return;
      }
      this.setBusy(false);
      this.showError();
      if (thenShowTop) {
        this.showTopOnly(true);
      }
    }
  }

  function stopPropagation(event) {
    event.stopPropagation();
  }

  // Pickers already set up. A WeakSet rather than a DOM marker: a copy of a
  // picker's HTML (marker and all) has no event listeners and must be set up.
  const initialised = new WeakSet();

  function findHiddenInput(root) {
    const name = root.dataset.input;
    const inputs = root.querySelectorAll('input[type="hidden"]');
    for (let i = 0; i < inputs.length; i++) {
      if (!name || inputs[i].name === name || inputs[i].id === name) {
        return inputs[i];
      }
    }
    return null;
  }

  function initRegionPicker(root) {
    if (initialised.has(root)) {
      return;
    }
    const input = findHiddenInput(root);
    if (!input) {
      return; // malformed markup: leave the server-rendered fallback alone
    }
    initialised.add(root);
    new RegionPicker(root, input).start();
  }

  // ---------------------------------------------------------------------
  // Set-up of a freshly loaded page
  // ---------------------------------------------------------------------

  function init(root) {
    if (!root || typeof root.querySelectorAll !== 'function') {
      return;
    }
    if (root.matches && root.matches('.region-picker')) {
      initRegionPicker(root);
    }
    Array.prototype.forEach.call(root.querySelectorAll('.region-picker'), initRegionPicker);
    Array.prototype.forEach.call(root.querySelectorAll('[data-progress]'), followProgress);
    Array.prototype.forEach.call(root.querySelectorAll('form[data-batch]'), initBatch);
    Array.prototype.forEach.call(root.querySelectorAll('aside.region-tree'), initRegionTree);
    Array.prototype.forEach.call(root.querySelectorAll('form[data-remember]'), rememberFilters);
    Array.prototype.forEach.call(root.querySelectorAll('table.data'), labelCells);
    Array.prototype.forEach.call(root.querySelectorAll('#menu-toggle'), initMenuToggle);
    if (window.matchMedia && window.matchMedia(PHONE).matches) {
      Array.prototype.forEach.call(root.querySelectorAll('form.filters[role="search"]'), foldFilters);
      // On a phone the region tree beside a list starts folded: the list comes first.
      Array.prototype.forEach.call(root.querySelectorAll('aside.region-tree > details[open]'), function (d) {
        d.open = false;
      });
    }
    // [data-print]: print the page (inline handlers are refused by the CSP).
    Array.prototype.forEach.call(root.querySelectorAll('[data-print]'), function (b) {
      b.addEventListener('click', function () { window.print(); });
    });
  }

  // ---------------------------------------------------------------------
  // [data-progress]: a background import's progress, polled as JSON
  // ({phase, read, checked, written, total}); the page reloads when the job
  // has an outcome to show.
  // ---------------------------------------------------------------------

  const PROGRESS_POLL_MS = 1000;

  function followProgress(box) {
    const url = box.getAttribute('data-progress');
    const bar = box.querySelector('progress[data-bar]');
    function poll() {
      fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
        .then(function (res) {
          if (!res.ok) {
            throw new Error(String(res.status));
          }
          return res.json();
        })
        .then(function (p) {
          ['read', 'checked', 'written'].forEach(function (k) {
            const el = box.querySelector('[data-count="' + k + '"]');
            if (el) {
              el.textContent = String(p[k]);
            }
          });
          if (bar) {
            bar.max = p.total || 1;
            bar.value = p.phase === 'writing' ? p.written : p.checked;
          }
          if (p.phase === 'checking' || p.phase === 'writing') {
            setTimeout(poll, PROGRESS_POLL_MS);
          } else {
            window.location.reload();
          }
        })
        .catch(function () {
          // The job is gone (the server restarted, say): the page says what is left.
          window.location.reload();
        });
    }
    setTimeout(poll, PROGRESS_POLL_MS);
  }

  // ---------------------------------------------------------------------
  // Delegated behaviours
  // ---------------------------------------------------------------------

  // form[data-confirm]. Listening in the capture phase on the document runs
  // before any submit listener on the form itself, so a cancelled
  // confirmation stops them all.
  document.addEventListener('submit', function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute('data-confirm')) {
      return;
    }
    if (!window.confirm(form.getAttribute('data-confirm'))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // select[data-autosubmit], input[data-autosubmit]. requestSubmit() (unlike
  // submit()) fires the submit event, so data-confirm still applies.
  document.addEventListener('change', function (event) {
    const field = event.target;
    if (!field.matches || !field.matches('select[data-autosubmit], input[data-autosubmit]')) {
      return;
    }
    const form = field.form || field.closest('form');
    if (!form) {
      return;
    }
    if (typeof form.requestSubmit === 'function') {
      form.requestSubmit();
    } else {
      const button = form.querySelector('button[type="submit"], input[type="submit"], button:not([type])');
      if (button) {
        button.click();
      } else {
        form.submit();
      }
    }
  });

  // [data-copy="element-id"]: copy that element's text (or value).
  // Optional data-copied="已复制" is shown on the button for a moment.
  document.addEventListener('click', function (event) {
    const button = event.target.closest ? event.target.closest('[data-copy]') : null;
    if (!button) {
      return;
    }
    event.preventDefault(); // a <button> inside a form must not submit it
    const source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) {
      return;
    }
    const text = source.tagName === 'INPUT' || source.tagName === 'TEXTAREA'
      ? source.value
      : source.textContent.trim();
    copyText(text).then(function () {
      flashCopied(button);
    }, function () {
      // Copying is not allowed here: select the text so Ctrl+C works.
      selectContents(source);
    });
  });

  function copyText(text) {
    // The async clipboard API only exists in secure contexts (HTTPS or
    // localhost); intranet deployments on plain HTTP need the old way.
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () {
        return legacyCopy(text);
      });
    }
    return legacyCopy(text);
  }

  function legacyCopy(text) {
    return new Promise(function (resolve, reject) {
      const focused = document.activeElement;
      const area = document.createElement('textarea');
      area.value = text;
      area.setAttribute('readonly', '');
      area.style.position = 'fixed';
      area.style.top = '-1000px';
      area.style.opacity = '0';
      document.body.appendChild(area);
      area.select();
      let ok = false;
      try {
        ok = document.execCommand('copy');
      } catch (e) {
        ok = false;
      }
      area.remove();
      if (focused && typeof focused.focus === 'function') {
        focused.focus();
      }
      if (ok) {
        resolve();
      } else {
        reject(new Error('copy failed'));
      }
    });
  }

  function selectContents(node) {
    if (typeof node.select === 'function') {
      node.select();
      return;
    }
    const range = document.createRange();
    range.selectNodeContents(node);
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  const flashTimers = new WeakMap();

  function flashCopied(button) {
    const label = button.getAttribute('data-copied');
    if (!flashTimers.has(button)) {
      button.dataset.copyLabel = button.textContent;
    }
    clearTimeout(flashTimers.get(button));
    button.classList.add('copied');
    if (label) {
      button.textContent = label;
    }
    flashTimers.set(button, setTimeout(function () {
      flashTimers.delete(button);
      button.classList.remove('copied');
      if (label) {
        button.textContent = button.dataset.copyLabel;
      }
    }, 1500));
  }

  // ---------------------------------------------------------------------
  // The to-do bell: the count comes from the API after the page is shown, so no page waits
  // for the queue's reads.
  // ---------------------------------------------------------------------

  function loadBell() {
    var bell = document.getElementById('todo-bell');
    if (!bell || !window.fetch) {
      return;
    }
    fetch('/api/v1/todo/count', { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (c) {
        if (!c || typeof c.total !== 'number') {
          return;
        }
        var badge = bell.querySelector('.bell-count');
        badge.textContent = c.total > 99 ? '99+' : String(c.total);
        badge.hidden = c.total === 0;
        bell.classList.toggle('bell-overdue', c.overdue > 0);
        bell.title = (bell.dataset.label || '').replace('{n}', String(c.total));
        bell.setAttribute('aria-label', bell.title);
      })
      .catch(function () { /* the bell stays without a count */ });
  }

  // ---------------------------------------------------------------------
  // Table tools: batch selection, the region tree, remembered filters
  // ---------------------------------------------------------------------

  // form[data-batch="table-id"]: the table's row checkboxes (input[data-row],
  // value = id; input[data-all] selects the page) feed the form's hidden
  // `ids` (comma-separated) on submit, and a[data-batch-href] links (an
  // export of the selection) get the ids appended. Nothing selected: the
  // buttons stay disabled.
  function initBatch(form) {
    const table = document.getElementById(form.getAttribute('data-batch'));
    if (!table) {
      return;
    }
    const counter = form.querySelector('.batch-count');
    const hidden = form.querySelector('input[name="ids"]');
    function selected() {
      return Array.prototype.filter.call(table.querySelectorAll('input[data-row]'), function (c) {
        return c.checked;
      }).map(function (c) { return c.value; });
    }
    function update() {
      const ids = selected();
      if (counter) {
        counter.textContent = ids.length
          ? (form.getAttribute('data-count') || '{n}').replace('{n}', String(ids.length))
          : form.getAttribute('data-none') || '';
      }
      if (hidden) {
        hidden.value = ids.join(',');
      }
      Array.prototype.forEach.call(form.querySelectorAll('[data-batch-submit]'), function (b) {
        b.disabled = ids.length === 0;
      });
      Array.prototype.forEach.call(form.querySelectorAll('a[data-batch-href]'), function (a) {
        a.href = a.getAttribute('data-batch-href') + encodeURIComponent(ids.join(','));
        a.classList.toggle('disabled', ids.length === 0);
        a.setAttribute('aria-disabled', ids.length === 0 ? 'true' : 'false');
      });
    }
    table.addEventListener('change', function (event) {
      const box = event.target;
      if (box.matches && box.matches('input[data-all]')) {
        Array.prototype.forEach.call(table.querySelectorAll('input[data-row]'), function (c) {
          c.checked = box.checked;
        });
      }
      update();
    });
    form.addEventListener('click', function (event) {
      const a = event.target.closest ? event.target.closest('a[data-batch-href]') : null;
      if (a && selected().length === 0) {
        event.preventDefault();
      }
    });
    form.addEventListener('submit', update);
    update();
  }

  // aside.region-tree: the viewer's regions as a tree, children fetched when a
  // node is first opened; choosing a region reloads the list filtered by it
  // (the other filters kept, back to page 1).
  function initRegionTree(aside) {
    const input = aside.getAttribute('data-tree-input') || 'region';
    const list = aside.querySelector('.tree-root');
    const params = new URLSearchParams(window.location.search);
    const current = params.get(input) || '';
    function go(code) {
      const next = new URLSearchParams(window.location.search);
      next.delete('page');
      next.delete('notice');
      if (code) {
        next.set(input, code);
      } else {
        next.delete(input);
      }
      const q = next.toString();
      window.location.href = window.location.pathname + (q ? '?' + q : '');
    }
    function node(region) {
      const li = el('li');
      li.setAttribute('role', 'treeitem');
      li.dataset.code = region.code;
      const hasChildren = region.child_count > 0 && region.level !== 'village';
      const twisty = el('button', 'twisty');
      twisty.type = 'button';
      twisty.textContent = hasChildren ? '▸' : '·';
      twisty.disabled = !hasChildren;
      twisty.setAttribute('aria-label', (aside.getAttribute('data-expand') || '') + ' ' + region.name);
      twisty.setAttribute('aria-expanded', 'false');
      const link = el('a', 'tree-label');
      link.href = '#';
      link.textContent = region.name;
      if (region.code === current) {
        link.classList.add('current');
        link.setAttribute('aria-current', 'true');
      }
      link.addEventListener('click', function (event) {
        event.preventDefault();
        go(region.code);
      });
      li.appendChild(twisty);
      li.appendChild(link);
      let sub = null;
      twisty.addEventListener('click', function () {
        if (sub) {
          const open = sub.hidden;
          sub.hidden = !open;
          twisty.textContent = open ? '▾' : '▸';
          twisty.setAttribute('aria-expanded', open ? 'true' : 'false');
          return;
        }
        sub = el('ul');
        sub.setAttribute('role', 'group');
        li.appendChild(sub);
        twisty.textContent = '▾';
        twisty.setAttribute('aria-expanded', 'true');
        loadChildren(region.code).then(function (items) {
          items.forEach(function (r) { sub.appendChild(node(r)); });
        }, function () {
          sub.textContent = aside.getAttribute('data-error') || '';
        });
      });
      // The chosen region's ancestors open, so it shows marked.
      if (hasChildren && current.length > region.code.length && current.indexOf(region.code) === 0) {
        twisty.click();
      }
      return li;
    }
    const all = el('li');
    const allLink = el('a', 'tree-label');
    allLink.href = '#';
    allLink.textContent = aside.getAttribute('data-all-label') || '';
    if (!current) {
      allLink.classList.add('current');
    }
    allLink.addEventListener('click', function (event) {
      event.preventDefault();
      go('');
    });
    all.appendChild(allLink);
    list.appendChild(all);
    loadTopRegions().then(function (items) {
      items.forEach(function (r) { list.appendChild(node(r)); });
    }, function () {
      list.appendChild(document.createTextNode(aside.getAttribute('data-error') || ''));
    });
  }

  // form.filters[data-remember]: the list's last filters (its query, without
  // page and notice) are kept per list path in localStorage and restored when
  // the list is opened without a query; [data-reset] forgets them.
  const REMEMBER_PREFIX = 'shegong.filters:';

  function rememberFilters(form) {
    const key = REMEMBER_PREFIX + window.location.pathname;
    let store = null;
    try {
      store = window.localStorage;
    } catch (e) {
      return;
    }
    const params = new URLSearchParams(window.location.search);
    params.delete('page');
    params.delete('notice');
    const kept = params.toString();
    if (!window.location.search) {
      const saved = store.getItem(key);
      if (saved) {
        window.location.replace(window.location.pathname + '?' + saved);
        return;
      }
    } else if (kept) {
      store.setItem(key, kept);
    }
    Array.prototype.forEach.call(document.querySelectorAll('[data-reset]'), function (a) {
      a.addEventListener('click', function () {
        store.removeItem(key);
      });
    });
  }

  // ---------------------------------------------------------------------
  // Phones: the menu behind a button, lists as cards (app.css, "Phones")
  // ---------------------------------------------------------------------

  const PHONE = '(max-width: 767.98px)';

  // #menu-toggle (a link to #menu, which the CSS opens by itself without scripts): open and
  // close the menu above the content; Escape closes it.
  function initMenuToggle(button) {
    const menu = document.getElementById(button.getAttribute('aria-controls') || 'menu');
    if (!menu) {
      return;
    }
    const label = button.querySelector('.sr-only');
    function set(open) {
      document.body.classList.toggle('menu-open', open);
      button.setAttribute('aria-expanded', open ? 'true' : 'false');
      const text = button.getAttribute(open ? 'data-close' : 'data-open');
      if (label && text) {
        label.textContent = text;
      }
    }
    button.addEventListener('click', function (event) {
      event.preventDefault();
      set(!document.body.classList.contains('menu-open'));
      if (document.body.classList.contains('menu-open')) {
        const first = menu.querySelector('a');
        if (first) {
          first.focus({ preventScroll: true });
        }
      }
    });
    document.addEventListener('keydown', function (event) {
      if (event.key === 'Escape' && document.body.classList.contains('menu-open')) {
        set(false);
        button.focus();
      }
    });
  }

  // form.filters[role=search] on a phone: only the first field, the search button and the
  // form's primary links show, with a button that opens the other filters. It stays open when
  // the address already asks for more than a name and paging (a filter is in use).
  function foldFilters(form) {
    const label = document.body.getAttribute('data-more-filters');
    const fields = form.querySelectorAll('select, input:not([type="hidden"]), .region-picker');
    if (!label || fields.length < 3) {
      return;
    }
    const first = form.querySelector('input[type="search"], input[type="text"], input:not([type])');
    const submit = form.querySelector('button[type="submit"], button:not([type])');
    const keep = [first, first && first.labels && first.labels[0], submit];
    Array.prototype.forEach.call(form.querySelectorAll('a.btn-primary'), function (a) { keep.push(a); });
    keep.forEach(function (el) {
      if (el && el.parentElement === form) {
        el.classList.add('keep');
      }
    });
    const toggle = document.createElement('button');
    toggle.type = 'button';
    toggle.className = 'btn filters-toggle keep';
    toggle.textContent = label;
    toggle.setAttribute('aria-expanded', 'false');
    toggle.addEventListener('click', function () {
      const folded = form.classList.toggle('folded');
      toggle.setAttribute('aria-expanded', folded ? 'false' : 'true');
    });
    form.insertBefore(toggle, submit && submit.parentElement === form ? submit.nextSibling : null);
    const asked = new URLSearchParams(window.location.search);
    ['q', 'page', 'per_page', 'sort', 'notice'].forEach(function (k) { asked.delete(k); });
    if (Array.from(asked.keys()).length === 0) {
      form.classList.add('folded');
    } else {
      toggle.setAttribute('aria-expanded', 'true');
    }
  }

  // table.data: each body cell gets its column's heading as `data-label` (shown before the value
  // when the row is a card), the row's first cell is its title, cells under a blank heading are
  // shown bare (a button row), empty cells are left out. The table is then marked `.cards`;
  // `.no-cards` keeps a table as it is.
  function labelCells(table) {
    if (table.classList.contains('no-cards') || table.classList.contains('cards')) {
      return;
    }
    const head = table.tHead;
    if (!head || head.rows.length !== 1) {
      return; // no heading, or a heading of several rows (a matrix): stays a table
    }
    const labels = [];
    const hidden = [];
    Array.prototype.forEach.call(head.rows[0].cells, function (th) {
      const text = (th.textContent || '').replace(/\s+/g, ' ').trim();
      for (let i = 0; i < (th.colSpan || 1); i++) {
        labels.push(text);
        hidden.push(th.classList.contains('card-hide'));
      }
    });
    // The column a template names as the card's title (`th.card-title`), else the row's first.
    const titleCol = Array.prototype.findIndex.call(head.rows[0].cells, function (th) {
      return th.classList.contains('card-title');
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        let col = 0;
        let titled = false;
        Array.prototype.forEach.call(row.cells, function (cell) {
          const label = labels[col] || '';
          const hide = hidden[col];
          col += cell.colSpan || 1;
          if (cell.colSpan > 1) {
            return;
          }
          cell.setAttribute('data-label', label);
          if (hide) {
            cell.classList.add('card-hide'); // a minor column, left out of the card
            return;
          }
          const empty = !(cell.textContent || '').trim()
            && !cell.querySelector('input:not([type="hidden"]), select, button, img, svg, meter, progress');
          if (empty) {
            cell.classList.add('card-empty');
          } else if (titleCol >= 0 ? col - (cell.colSpan || 1) === titleCol
            : !titled && !cell.classList.contains('pick') && !cell.classList.contains('actions')) {
            cell.classList.add('card-title');
            titled = true;
          } else if (!label) {
            cell.classList.add(cell.querySelector('.btn, button, form') ? 'card-action' : 'card-plain');
          }
        });
      });
    });
    table.classList.add('cards');
  }

  // ---------------------------------------------------------------------
  // Sign-out: erase the offline app's data on this device first
  // ---------------------------------------------------------------------

  // The offline app (/app) keeps the worker's files and unsent records in the IndexedDB
  // database `shegong-offline` and its shell in caches named `shegong-*`; signing out from any
  // page erases them (asking first when records have not been synced yet), then signs out.
  const OFFLINE_DB = 'shegong-offline';

  function offlineUnsent() {
    return new Promise(function (resolve) {
      const open = indexedDB.open(OFFLINE_DB);
      open.onupgradeneeded = function () { open.transaction.abort(); resolve(0); };
      open.onerror = function () { resolve(0); };
      open.onsuccess = function () {
        const d = open.result;
        if (!d.objectStoreNames.contains('queue')) { d.close(); resolve(0); return; }
        const c = d.transaction('queue').objectStore('queue').count();
        c.onsuccess = function () { d.close(); resolve(c.result); };
        c.onerror = function () { d.close(); resolve(0); };
      };
    });
  }

  function wipeOffline() {
    const steps = [new Promise(function (resolve) {
      const d = indexedDB.deleteDatabase(OFFLINE_DB);
      d.onsuccess = d.onerror = d.onblocked = resolve;
    })];
    if ('caches' in window) {
      steps.push(caches.keys().then(function (names) {
        return Promise.all(names.filter(function (n) { return n.indexOf('shegong-') === 0; })
          .map(function (n) { return caches.delete(n); }));
      }));
    }
    return Promise.race([Promise.all(steps), new Promise(function (r) { setTimeout(r, 2000); })]);
  }

  document.addEventListener('submit', function (ev) {
    const form = ev.target;
    if (!(form instanceof HTMLFormElement) || form.getAttribute('action') !== '/logout' || form.dataset.wiped) return;
    if (!('indexedDB' in window)) return;
    ev.preventDefault();
    offlineUnsent().then(function (n) {
      if (n > 0 && form.dataset.unsent && !window.confirm(form.dataset.unsent.replace('{n}', n))) return;
      wipeOffline().then(function () {
        form.dataset.wiped = '1';
        form.submit();
      });
    });
  });

  // ---------------------------------------------------------------------
  // Start
  // ---------------------------------------------------------------------

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', function () {
      init(document);
      loadBell();
    });
  } else {
    init(document);
    loadBell();
  }
}());
