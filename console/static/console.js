// The token console's script: it polls the page's JSON and updates the
// page in place, and posts the action forms without leaving the page.
// Without it the page still reads right and the forms still work.
(function () {
  'use strict';
  var body = document.body;
  var api = body.getAttribute('data-api');
  var poll = parseInt(body.getAttribute('data-poll') || '0', 10);
  var toast = document.getElementById('toast');
  var live = document.getElementById('live');
  var busy = false;
  var again = false;
  var leaving = false; // a form is taking the browser elsewhere (log out): poll no more
  var toastTimer = 0;

  function setTone(el, tone) {
    var drop = [];
    el.classList.forEach(function (c) { if (c.indexOf('tone-') === 0) { drop.push(c); } });
    drop.forEach(function (c) { el.classList.remove(c); });
    el.classList.add('tone-' + tone);
  }

  // apply writes the fields of obj into the elements of root that name them.
  function apply(root, obj) {
    if (!root || !obj) { return; }
    root.querySelectorAll('[data-f]').forEach(function (el) {
      var k = el.getAttribute('data-f');
      if (k in obj && el.textContent !== String(obj[k])) { el.textContent = obj[k]; }
    });
    root.querySelectorAll('[data-tone]').forEach(function (el) {
      var k = el.getAttribute('data-tone');
      if (k in obj) { setTone(el, obj[k]); }
    });
    root.querySelectorAll('[data-w]').forEach(function (el) {
      var k = el.getAttribute('data-w');
      if (k in obj) { el.setAttribute('width', obj[k]); }
    });
    root.querySelectorAll('[data-v]').forEach(function (el) {
      var k = el.getAttribute('data-v');
      if (k in obj) { el.value = obj[k] || ''; }
    });
    root.querySelectorAll('[data-show]').forEach(function (el) {
      var k = el.getAttribute('data-show');
      if (k in obj) { el.hidden = !obj[k]; }
    });
    root.querySelectorAll('[data-hide]').forEach(function (el) {
      var k = el.getAttribute('data-hide');
      if (k in obj) { el.hidden = !!obj[k]; }
    });
  }

  function node(tag, cls, text) {
    var el = document.createElement(tag);
    if (cls) { el.className = cls; }
    if (text) { el.textContent = text; }
    return el;
  }

  function renderEvents(list, events) {
    var base = list.getAttribute('data-base') || './';
    var items = [];
    (events || []).forEach(function (ev) {
      var li = node('li', 'tone-' + ev.tone);
      var dot = node('span', 'dot');
      dot.setAttribute('aria-hidden', 'true');
      var div = node('div');
      div.appendChild(node('strong', '', ev.text));
      if (ev.account) {
        div.appendChild(document.createTextNode(' · '));
        var a = node('a', '', ev.account);
        a.href = base + 'sellers/' + encodeURIComponent(ev.account);
        div.appendChild(a);
      }
      div.appendChild(document.createTextNode(' '));
      var t = node('time', '', ev.when);
      t.setAttribute('datetime', ev.time);
      t.title = ev.stamp;
      div.appendChild(t);
      if (ev.detail) { div.appendChild(node('div', 'detail', ev.detail)); }
      li.appendChild(dot);
      li.appendChild(div);
      items.push(li);
    });
    if (!items.length) { items.push(node('li', 'empty', 'No events yet.')); }
    list.replaceChildren.apply(list, items);
  }

  function update(d) {
    apply(document.querySelector('.top'), d);
    apply(document.querySelector('[data-scope="token"]'), d.token);
    apply(document.querySelector('[data-scope="seller"]'), d.seller);
    if (d.sellers) {
      (d.sellers.rows || []).forEach(function (row) {
        apply(document.querySelector('tr[data-scope="' + CSS.escape(row.account) + '"]'), row);
      });
      var pager = document.querySelector('.pager');
      if (pager) { apply(pager, d.sellers); }
    }
    if (d.usage) {
      (d.usage.gauges || []).forEach(function (g) {
        apply(document.querySelector('[data-gauge="' + CSS.escape(g.grant) + '"]'), g);
      });
      var chart = document.getElementById('chart');
      if (chart) {
        var base = document.getElementById('timeline').getAttribute('data-base') || './';
        var src = new URL(base + d.usage.chart_src, location.href).href;
        if (chart.src !== src) { chart.src = src; chart.alt = d.usage.chart_alt; }
      }
    }
    var list = document.getElementById('timeline');
    if (list && list.getAttribute('data-seq') !== String(d.seq)) {
      renderEvents(list, d.events);
      list.setAttribute('data-seq', String(d.seq));
    }
  }

  function refresh() {
    if (!api || leaving) { return; }
    if (busy) { again = true; return; }
    busy = true;
    fetch(api, { headers: { 'Accept': 'application/json' }, credentials: 'same-origin', cache: 'no-store' })
      .then(function (r) {
        if (r.status === 401) { location.reload(); return null; }
        if (!r.ok) { throw new Error('HTTP ' + r.status); }
        return r.json();
      })
      .then(function (d) {
        if (!d) { return; }
        update(d);
        live.classList.remove('stale');
      })
      .catch(function () { live.classList.add('stale'); })
      .finally(function () {
        busy = false;
        if (again) { again = false; refresh(); }
      });
  }

  function say(text, tone) {
    toast.textContent = text;
    toast.className = 'notice tone-' + tone;
    toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { toast.hidden = true; }, 6000);
  }

  document.addEventListener('submit', function (e) {
    var form = e.target;
    if (!form.hasAttribute('data-action')) { leaving = true; return; }
    e.preventDefault();
    var button = form.querySelector('button');
    button.disabled = true;
    fetch(form.action, {
      method: 'POST',
      headers: { 'Accept': 'application/json' },
      credentials: 'same-origin',
      body: new URLSearchParams(new FormData(form))
    })
      .then(function (r) {
        if (r.status === 403) { throw new Error('Refused: reload the page and try again.'); }
        return r.json();
      })
      .then(function (res) { say(res.message, res.ok ? 'ok' : 'bad'); })
      .catch(function (err) { say(err.message, 'bad'); })
      .finally(function () { button.disabled = false; refresh(); });
  });

  document.addEventListener('click', function (e) {
    var b = e.target.closest('[data-copy]');
    if (!b) { return; }
    var input = document.getElementById(b.getAttribute('data-copy'));
    input.select();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value)
        .then(function () { say('Consent link copied: send it to the seller.', 'ok'); })
        .catch(function () { say('Press Ctrl+C (⌘C) to copy the selected link.', 'warn'); });
    } else {
      say('Press Ctrl+C (⌘C) to copy the selected link.', 'warn');
    }
  });

  if (poll > 0) {
    setInterval(function () { if (!document.hidden) { refresh(); } }, poll);
    window.addEventListener('pagehide', function () { leaving = true; });
    document.addEventListener('visibilitychange', function () { if (!document.hidden) { refresh(); } });
  }
}());
