// The coop dashboard: polls the scheduler's read-only JSON API every 2 s and redraws.
// Every value from the API is put into the page as text (never as HTML): job names and
// why-pending lines come from users.
(function () {
  'use strict';

  var POLL_MS = 2000;
  // Account colours as the demo's report gives them (AccountColours.PALETTE, Tableau 10), in
  // account-name order over every account the page has seen, so each account looks the same in both.
  var PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
  var SVG = 'http://www.w3.org/2000/svg';
  var samples = [];
  var lastSampleAt = 0;
  var knownAccounts = [];

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    }
    if (text !== undefined && text !== null) {
      e.textContent = String(text);
    }
    return e;
  }

  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) {
      e.textContent = String(text);
    }
    return e;
  }

  function setText(id, value) {
    var e = document.getElementById(id);
    e.textContent = String(value);
    e.setAttribute('data-value', String(value));
  }

  function know(account) {
    if (knownAccounts.indexOf(account) < 0) {
      knownAccounts.push(account);
      knownAccounts.sort(function (a, b) { return a < b ? -1 : a > b ? 1 : 0; });
    }
  }

  function colorOf(account) {
    know(account);
    return PALETTE[knownAccounts.indexOf(account) % PALETTE.length];
  }

  function signed(x) {
    var r = (Math.round(x * 10) / 10).toFixed(1);
    return (x >= 0 ? '+' : '') + r + ' pp';
  }

  var STRETCH_NAMES = {policy: 'live policy', hour: 'last hour', day: 'last day'};

  function stretchName(s) {
    return STRETCH_NAMES[s] || s;
  }

  function pct(x) {
    return (Math.round(x * 10) / 10).toFixed(1) + '%';
  }

  function duration(ms) {
    if (ms <= 0) {
      return 'closing';
    }
    var s = Math.floor(ms / 1000);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60);
    if (d > 0) { return d + 'd ' + h + 'h'; }
    if (h > 0) { return h + 'h ' + m + 'm'; }
    if (m > 0) { return m + 'm ' + (s % 60) + 's'; }
    return (s % 60) + 's';
  }

  function getJson(path) {
    return fetch(path, {cache: 'no-store'}).then(function (r) {
      if (!r.ok) {
        return r.text().then(function (t) { throw new Error(path + ': HTTP ' + r.status + ' ' + t); });
      }
      return r.json();
    });
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  // ------------------------------------------------------------------ summary and accounts

  function renderUsage(usage, jobs) {
    var online = usage.gpus_online, busy = usage.gpus_busy;
    setText('gpus-busy', busy);
    setText('gpus-free', online - busy);
    setText('gpus-online', online);
    setText('utilization', online === 0 ? '0.0%' : pct(100 * busy / online));
    var pending = usage.accounts.reduce(function (n, a) { return n + a.pending_jobs; }, 0);
    var running = usage.accounts.reduce(function (n, a) { return n + a.running_jobs; }, 0);
    setText('pending-count', pending);
    setText('running-count', running);
    setText('policy-version', 'v' + usage.policy_version);

    usage.accounts.forEach(function (a) { know(a.account); });
    var body = document.querySelector('#accounts tbody');
    clear(body);
    usage.accounts.forEach(function (a) {
      var tr = el('tr', {'data-account': a.account});
      var name = el('td');
      var swatch = el('span', {'class': 'swatch'});
      // Through the CSSOM: the Content-Security-Policy refuses style attributes.
      swatch.style.backgroundColor = colorOf(a.account);
      name.appendChild(swatch);
      name.appendChild(document.createTextNode(a.account));
      tr.appendChild(name);
      var voted = a.entitled_basis_points / 100;
      tr.appendChild(el('td', {'class': 'num voted', 'data-value': voted}, pct(voted)));
      tr.appendChild(el('td', {'class': 'num achieved', 'data-value': a.achieved_percent}, pct(a.achieved_percent)));
      tr.appendChild(el('td', {'class': 'num running-gpus', 'data-value': a.running_gpus}, a.running_gpus));
      tr.appendChild(el('td', {'class': 'num pending', 'data-value': a.pending_jobs}, a.pending_jobs));
      tr.appendChild(el('td', {'class': 'num preemptions', 'data-value': a.preemptions}, a.preemptions));
      var lostHours = a.preempted_gpu_seconds / 3600;
      tr.appendChild(el('td', {'class': 'num lost', 'data-value': a.preempted_gpu_seconds},
        (Math.round(lostHours * 100) / 100).toFixed(2)));
      tr.appendChild(el('td', {'class': 'num max-job-preemptions', 'data-value': a.max_job_preemptions},
        a.max_job_preemptions));
      body.appendChild(tr);
    });
    renderVerdicts(usage);
  }

  function swatchCell(account) {
    var td = el('td');
    var swatch = el('span', {'class': 'swatch'});
    swatch.style.backgroundColor = colorOf(account);
    td.appendChild(swatch);
    td.appendChild(document.createTextNode(account));
    return td;
  }

  function renderVerdicts(usage) {
    document.getElementById('verdict-rule').textContent = usage.verdict_rule || '';
    var body = document.querySelector('#verdicts tbody');
    clear(body);
    (usage.verdicts || []).forEach(function (v) {
      var tr = el('tr', {'data-stretch': v.stretch});
      tr.appendChild(el('td', null, stretchName(v.stretch)));
      tr.appendChild(el('td', {'class': 'from', 'data-value': v.from_ms}, new Date(v.from_ms).toLocaleString()));
      tr.appendChild(el('td', {'class': 'verdict', 'data-verdict': v.verdict}, v.verdict));
      tr.appendChild(el('td', {'class': 'num worst-gap', 'data-value': v.worst_gap_pp},
        (Math.round(v.worst_gap_pp * 10) / 10).toFixed(1) + ' pp'));
      body.appendChild(tr);
    });
    var rows = document.querySelector('#judgement tbody');
    clear(rows);
    usage.accounts.forEach(function (a) {
      (a.windows || []).forEach(function (w, i) {
        var tr = el('tr', {'data-account': a.account, 'data-stretch': w.stretch,
          'class': i === 0 ? 'first-of-account' : ''});
        tr.appendChild(i === 0 ? swatchCell(a.account) : el('td'));
        tr.appendChild(el('td', {'class': 'stretch'}, stretchName(w.stretch)));
        tr.appendChild(el('td', {'class': 'num voted', 'data-value': w.voted_percent}, pct(w.voted_percent)));
        tr.appendChild(el('td', {'class': 'num achieved', 'data-value': w.achieved_percent}, pct(w.achieved_percent)));
        tr.appendChild(el('td', {'class': 'num gap', 'data-value': w.gap_pp}, signed(w.gap_pp)));
        tr.appendChild(el('td', {'class': 'waited', 'data-value': w.waited}, w.waited ? 'yes' : 'no'));
        tr.appendChild(el('td', {'class': 'verdict', 'data-verdict': w.verdict}, w.verdict));
        rows.appendChild(tr);
      });
    });
  }

  // ------------------------------------------------------------------ cluster

  function renderCluster(nodes) {
    var root = document.getElementById('cluster');
    clear(root);
    if (nodes.length === 0) {
      root.appendChild(el('p', {'class': 'empty'}, 'no nodes enrolled yet'));
      return;
    }
    var sites = {};
    nodes.forEach(function (n) {
      (sites[n.site] = sites[n.site] || []).push(n);
    });
    Object.keys(sites).sort().forEach(function (site) {
      var box = el('div', {'class': 'site', 'data-site': site});
      box.appendChild(el('h3', null, 'site ' + site));
      var list = el('div', {'class': 'nodes'});
      sites[site].sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; })
        .forEach(function (n) { list.appendChild(nodeCard(n)); });
      box.appendChild(list);
      root.appendChild(box);
    });
  }

  function nodeCard(n) {
    var busy = {};
    n.busy_gpu_indices.forEach(function (i) { busy[i] = true; });
    var online = n.state === 'online';
    var card = el('div', {'class': 'node', 'data-node': n.name, 'data-state': n.state,
      'data-gpus': n.gpus.length, 'data-busy': n.busy_gpu_indices.length,
      'data-free': online ? n.gpus.length - n.busy_gpu_indices.length : 0});
    card.appendChild(el('div', {'class': 'name'}, n.name));
    var flags = [n.state];
    if (n.draining) { flags.push('draining'); }
    if (n.windows.length > 0 && !n.offered) { flags.push('closed'); }
    if (n.reserved_gpus > 0) { flags.push(n.reserved_gpus + ' reserved for ' + n.account); }
    card.appendChild(el('div', {'class': 'meta'}, flags.join(', ')));
    var models = {};
    n.gpus.forEach(function (g) { models[g.model || '?'] = (models[g.model || '?'] || 0) + 1; });
    card.appendChild(el('div', {'class': 'meta'}, n.busy_gpu_indices.length + '/' + n.gpus.length + ' busy · '
      + Object.keys(models).map(function (m) { return models[m] + '×' + m; }).join(' + ')));
    var gpus = el('div', {'class': 'gpus'});
    n.gpus.forEach(function (g) {
      var cls = 'gpu' + (busy[g.index] ? ' busy' : online ? '' : ' unavailable');
      gpus.appendChild(el('span', {'class': cls, 'data-index': g.index,
        title: 'GPU ' + g.index + ' ' + g.model + (busy[g.index] ? ' (busy)' : '')}));
    });
    card.appendChild(gpus);
    if (n.running_job_ids.length > 0) {
      card.appendChild(el('div', {'class': 'meta'}, 'jobs ' + n.running_job_ids.join(', ')));
    }
    return card;
  }

  // ------------------------------------------------------------------ queue

  function renderJobs(jobs, nowMs) {
    var queue = document.querySelector('#queue tbody');
    var running = document.querySelector('#running tbody');
    clear(queue);
    clear(running);
    jobs.forEach(function (j) {
      var gpus = j.nodes > 1 ? j.nodes + '×' + j.gpus_per_node : String(j.gpus_per_node);
      if (j.state === 'PENDING' || j.state === 'REVIEW') {
        var tr = el('tr', {'data-job-id': j.id, 'data-state': j.state});
        tr.appendChild(el('td', {'class': 'num'}, j.id));
        tr.appendChild(el('td', null, j.name));
        tr.appendChild(el('td', null, j.account));
        tr.appendChild(el('td', null, j.state.toLowerCase()));
        tr.appendChild(el('td', {'class': 'num'}, gpus));
        tr.appendChild(el('td', null, duration(nowMs - j.submitted_at_ms)));
        tr.appendChild(el('td', {'class': 'why'}, j.why_pending));
        queue.appendChild(tr);
      } else if (j.state === 'RUNNING') {
        var last = j.attempts.length > 0 ? j.attempts[j.attempts.length - 1] : null;
        var r = el('tr', {'data-job-id': j.id, 'data-state': j.state});
        r.appendChild(el('td', {'class': 'num'}, j.id));
        r.appendChild(el('td', null, j.name));
        r.appendChild(el('td', null, j.account));
        r.appendChild(el('td', {'class': 'num'}, gpus));
        // Attempts before this one that were preempted: the job lost their work unless it checkpointed.
        var preempted = j.attempts.filter(function (a) { return a.outcome.indexOf('preempted') === 0; }).length;
        r.appendChild(el('td', {'class': 'num attempt', 'data-value': last ? last.number : 0,
          'data-preempted': preempted}, last ? last.number + (preempted > 0 ? ' (' + preempted + ' preempted)' : '') : ''));
        r.appendChild(el('td', null, last ? duration(nowMs - last.started_at_ms) : ''));
        r.appendChild(el('td', null, last ? last.placements.map(function (p) { return p.node; }).join(', ') : ''));
        running.appendChild(r);
      }
    });
    if (!queue.firstChild) {
      queue.appendChild(emptyRow(7, 'nothing waits'));
    }
    if (!running.firstChild) {
      running.appendChild(emptyRow(7, 'nothing runs'));
    }
  }

  function emptyRow(columns, text) {
    var tr = el('tr', {'class': 'empty-row'});
    tr.appendChild(el('td', {colspan: columns, 'class': 'empty'}, text));
    return tr;
  }

  // ------------------------------------------------------------------ proposals

  function renderProposals(proposals, nowMs) {
    var body = document.querySelector('#proposals tbody');
    clear(body);
    proposals.forEach(function (p) {
      var t = p.tally;
      var cast = t.yes + t.no + t.abstain;
      var tr = el('tr', {'data-proposal-id': p.id});
      tr.appendChild(el('td', {'class': 'num'}, p.id));
      tr.appendChild(el('td', null, (p.title || p.kind) + ' (' + p.kind + ', by ' + p.proposer + ')'));
      tr.appendChild(el('td', {'class': 'tally', 'data-yes': t.yes, 'data-no': t.no, 'data-abstain': t.abstain},
        t.yes + ' / ' + t.no + ' / ' + t.abstain));
      tr.appendChild(el('td', {'class': 'turnout', 'data-cast': cast, 'data-eligible': t.eligible},
        cast + ' of ' + t.eligible));
      tr.appendChild(el('td', {'class': 'rule'}, p.rule));
      tr.appendChild(el('td', {'class': 'time-left', 'data-closes-at': p.closes_at_ms},
        duration(p.closes_at_ms - nowMs)));
      body.appendChild(tr);
    });
    if (!body.firstChild) {
      body.appendChild(emptyRow(6, 'no proposal is open'));
    }
  }

  // ------------------------------------------------------------------ ledger

  function renderLedger(ledger) {
    setText('ledger-size', ledger.size);
    var head = document.getElementById('ledger-head');
    head.textContent = ledger.head;
    var status = document.getElementById('ledger-status');
    var v = ledger.verification;
    if (!v) {
      status.textContent = 'checking…';
      status.setAttribute('data-ok', '');
      return;
    }
    status.setAttribute('data-ok', String(v.ok));
    status.setAttribute('data-entries', String(v.entries));
    if (v.ok) {
      status.textContent = 'verified: ' + v.entries + ' entries re-checked (' + v.proposals + ' proposals, '
        + v.ballots + ' ballots, ' + v.attempts + ' attempts)' + (v.current ? '' : '; newer entries not yet checked');
    } else {
      status.textContent = 'FAILED at entry ' + v.bad_entry + ': ' + v.problem;
    }
  }

  // ------------------------------------------------------------------ charts

  function chartFrame(root, width, height, margin, labels) {
    clear(root);
    var x0 = margin.left, x1 = width - margin.right, y0 = height - margin.bottom, y1 = margin.top;
    root.appendChild(svg('line', {'class': 'axis', x1: x0, y1: y0, x2: x1, y2: y0}));
    root.appendChild(svg('line', {'class': 'axis', x1: x0, y1: y1, x2: x0, y2: y0}));
    [0, 50, 100].forEach(function (v) {
      var y = y0 - (y0 - y1) * v / 100;
      root.appendChild(svg('line', {'class': 'axis', x1: x0, y1: y, x2: x1, y2: y, 'stroke-opacity': 0.4}));
      root.appendChild(svg('text', {'class': 'tick', x: x0 - 6, y: y + 3, 'text-anchor': 'end'}, v + '%'));
    });
    if (labels) {
      root.appendChild(svg('text', {'class': 'tick', x: x0, y: height - 6}, labels[0]));
      root.appendChild(svg('text', {'class': 'tick', x: x1, y: height - 6, 'text-anchor': 'end'}, labels[1]));
    }
    return {x0: x0, x1: x1, y0: y0, y1: y1};
  }

  function clock(ms) {
    return new Date(ms).toLocaleTimeString();
  }

  function line(frame, points, t0, t1) {
    var span = Math.max(1, t1 - t0);
    return points.map(function (p, i) {
      var x = frame.x0 + (frame.x1 - frame.x0) * (p[0] - t0) / span;
      var y = frame.y0 - (frame.y0 - frame.y1) * Math.max(0, Math.min(100, p[1])) / 100;
      return (i === 0 ? 'M' : 'L') + x.toFixed(1) + ',' + y.toFixed(1);
    }).join(' ');
  }

  function renderShareChart() {
    var root = document.getElementById('share-chart');
    if (samples.length === 0) {
      clear(root);
      return;
    }
    var t0 = samples[0].at_ms, t1 = samples[samples.length - 1].at_ms;
    var frame = chartFrame(root, 640, 260, {left: 40, right: 110, top: 12, bottom: 24}, [clock(t0), clock(t1)]);
    var accounts = [];
    samples.forEach(function (s) {
      s.accounts.forEach(function (a) {
        if (accounts.indexOf(a.account) < 0) { accounts.push(a.account); }
      });
    });
    accounts.sort();
    accounts.forEach(function (account, k) {
      var voted = [], achieved = [];
      samples.forEach(function (s) {
        s.accounts.forEach(function (a) {
          if (a.account === account) {
            // The trailing hour, which does not start again at an enactment; samples kept before it
            // was sampled have only the live policy's figures.
            var hour = typeof a.hour_achieved_percent === 'number';
            voted.push([s.at_ms, hour ? a.hour_voted_percent : a.voted_percent]);
            achieved.push([s.at_ms, hour ? a.hour_achieved_percent : a.achieved_percent]);
          }
        });
      });
      var color = colorOf(account);
      root.appendChild(svg('path', {'class': 'voted', 'data-account': account, 'data-points': voted.length,
        stroke: color, d: line(frame, voted, t0, t1)}));
      root.appendChild(svg('path', {'class': 'achieved', 'data-account': account, 'data-points': achieved.length,
        stroke: color, d: line(frame, achieved, t0, t1)}));
      var y = frame.y1 + 4 + k * 16;
      root.appendChild(svg('rect', {x: frame.x1 + 10, y: y, width: 10, height: 10, fill: color}));
      root.appendChild(svg('text', {'class': 'legend', x: frame.x1 + 24, y: y + 9}, account));
    });
  }

  function renderUtilizationChart() {
    var root = document.getElementById('utilization-chart');
    if (samples.length === 0) {
      clear(root);
      return;
    }
    var t0 = samples[0].at_ms, t1 = samples[samples.length - 1].at_ms;
    var frame = chartFrame(root, 640, 140, {left: 40, right: 110, top: 10, bottom: 22}, [clock(t0), clock(t1)]);
    var points = samples.map(function (s) { return [s.at_ms, s.utilization_percent]; });
    root.appendChild(svg('path', {id: 'utilization-line', 'data-points': points.length, stroke: '#2f6fde',
      d: line(frame, points, t0, t1)}));
  }

  function addSamples(history) {
    history.samples.forEach(function (s) {
      if (s.at_ms > lastSampleAt) {
        samples.push(s);
        lastSampleAt = s.at_ms;
      }
    });
    var kept = history.kept_every_ms > 0 ? Math.ceil(history.kept_ms / history.kept_every_ms) : 0;
    while (samples.length > history.capacity + kept) {
      samples.shift();
    }
  }

  // ------------------------------------------------------------------ polling

  function refresh() {
    var status = document.getElementById('status');
    Promise.all([
      getJson('/api/v1/usage'),
      getJson('/api/v1/nodes'),
      getJson('/api/v1/jobs?state=pending,review,running&limit=300'),
      getJson('/api/v1/proposals?open=true'),
      getJson('/api/v1/ledger'),
      getJson('/api/v1/history?since=' + lastSampleAt)
    ]).then(function (r) {
      var usage = r[0];
      // The scheduler's clock, not the browser's, for ages and time left.
      var nowMs = usage.window_end_ms;
      renderUsage(usage);
      renderCluster(r[1]);
      renderJobs(r[2].jobs, nowMs);
      renderProposals(r[3], nowMs);
      renderLedger(r[4]);
      addSamples(r[5]);
      renderShareChart();
      renderUtilizationChart();
      status.textContent = 'updated ' + clock(nowMs);
      status.setAttribute('data-state', 'ok');
      status.setAttribute('data-updated-at', String(nowMs));
    }).catch(function (e) {
      status.textContent = 'cannot reach the scheduler: ' + e.message;
      status.setAttribute('data-state', 'error');
    }).then(function () {
      setTimeout(refresh, POLL_MS);
    });
  }

  refresh();
}());
