// The night report's behaviour, inlined into the page: sortable tables, and the long tables (images, products) drawn a
// page at a time from compressed JSON blocks (gzip + base64 in <script type="application/octet-stream">), so a
// 14,000-image night stays a small page with a small DOM. No external code.
"use strict";
(function () {
  const collator = new Intl.Collator("en", { numeric: true });

  function compare(a, b) {
    if (a === b) return 0;
    if (a === null || a === undefined || a === "") return 1;   // empty cells last, whatever the direction
    if (b === null || b === undefined || b === "") return -1;
    if (typeof a === "number" && typeof b === "number") return a - b;
    return collator.compare(String(a), String(b));
  }

  function markSorted(th, ascending) {
    for (const other of th.parentNode.children) other.classList.remove("sorted-asc", "sorted-desc");
    th.classList.add(ascending ? "sorted-asc" : "sorted-desc");
  }

  // Static tables: <table class="sortable">, numeric cells carry data-v.
  function sortableTable(table) {
    const head = table.tHead;
    if (!head) return;
    [...head.rows[0].cells].forEach((th, col) => {
      th.addEventListener("click", () => {
        const ascending = !th.classList.contains("sorted-asc");
        const body = table.tBodies[0];
        const key = (tr) => {
          const cell = tr.cells[col];
          if (!cell) return null;
          const v = cell.dataset.v;
          return v !== undefined ? (v === "" ? null : Number(v)) : cell.textContent.trim();
        };
        const rows = [...body.rows].sort((x, y) => (ascending ? 1 : -1) * compare(key(x), key(y)) || 0);
        for (const r of rows) body.appendChild(r);
        markSorted(th, ascending);
      });
    });
  }

  async function decode(id) {
    const text = document.getElementById(id).textContent.trim();
    const bytes = Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
    const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return JSON.parse(await new Response(stream).text());
  }

  function formatCell(td, value, column) {
    if (value === null || value === undefined) { td.textContent = "–"; return; }
    if (Array.isArray(value)) {
      // [text, href] is one link; [[text, href], ...] a list of links.
      const links = Array.isArray(value[0]) ? value : [value];
      links.forEach(([text, href], i) => {
        if (i > 0) td.appendChild(document.createTextNode(" "));
        const a = document.createElement("a");
        a.textContent = text;
        a.href = href;
        td.appendChild(a);
      });
      return;
    }
    if (typeof value === "number" && column.digits !== undefined && column.digits !== null) {
      td.textContent = value.toFixed(column.digits);
    } else {
      td.textContent = String(value);
    }
  }

  function sortKey(value) {
    if (Array.isArray(value)) return Array.isArray(value[0]) ? value.length : value[0];
    return value;
  }

  // A table drawn from a data block: columns [{title, align, digits, hidden}], rows [[...]], classColumn (a CSS class
  // for the row), flagsColumn (indices of the cells to mark as outliers), pageSize.
  async function dataTable(host) {
    const spec = await decode(host.dataset.source);
    const columns = spec.columns;
    const visible = columns.map((c, i) => i).filter((i) => !columns[i].hidden);
    const pageSize = spec.pageSize || 100;
    let rows = spec.rows;
    let shown = rows;
    let page = 0;
    let sortColumn = -1, ascending = true;

    const controls = document.createElement("div");
    controls.className = "controls";
    const search = document.createElement("input");
    search.type = "search";
    search.placeholder = "filter rows (text in any column)";
    controls.appendChild(search);
    let onlyFlagged = null;
    if (spec.classColumn !== undefined && spec.classColumn !== null) {
      const label = document.createElement("label");
      onlyFlagged = document.createElement("input");
      onlyFlagged.type = "checkbox";
      label.appendChild(onlyFlagged);
      label.appendChild(document.createTextNode(" only flagged rows"));
      controls.appendChild(label);
    }
    const pager = document.createElement("span");
    pager.className = "pager";
    const prev = document.createElement("button");
    prev.textContent = "◀ previous";
    const next = document.createElement("button");
    next.textContent = "next ▶";
    const where = document.createElement("span");
    where.className = "where";
    pager.append(prev, " ", where, " ", next);
    controls.appendChild(pager);

    const table = document.createElement("table");
    table.className = "data";
    const thead = table.createTHead();
    const headRow = thead.insertRow();
    const tbody = table.createTBody();
    visible.forEach((i) => {
      const th = document.createElement("th");
      th.textContent = columns[i].title;
      if (columns[i].titleHint) th.title = columns[i].titleHint;
      if (columns[i].align) th.className = columns[i].align;
      th.addEventListener("click", () => {
        ascending = sortColumn === i ? !ascending : true;
        sortColumn = i;
        shown = [...shown].sort((x, y) => (ascending ? 1 : -1) * compare(sortKey(x[i]), sortKey(y[i])));
        markSorted(th, ascending);
        page = 0;
        draw();
      });
      headRow.appendChild(th);
    });

    function filter() {
      const needle = search.value.trim().toLowerCase();
      shown = rows.filter((r) => {
        if (onlyFlagged && onlyFlagged.checked && !r[spec.classColumn]) return false;
        if (!needle) return true;
        return visible.some((i) => {
          const v = r[i];
          const text = Array.isArray(v) ? JSON.stringify(v) : String(v ?? "");
          return text.toLowerCase().includes(needle);
        });
      });
      if (sortColumn >= 0) shown.sort((x, y) => (ascending ? 1 : -1) * compare(sortKey(x[sortColumn]), sortKey(y[sortColumn])));
      page = 0;
      draw();
    }

    function draw() {
      const pages = Math.max(1, Math.ceil(shown.length / pageSize));
      page = Math.min(page, pages - 1);
      const first = page * pageSize;
      const slice = shown.slice(first, first + pageSize);
      tbody.replaceChildren();
      for (const r of slice) {
        const tr = tbody.insertRow();
        if (spec.classColumn !== undefined && spec.classColumn !== null && r[spec.classColumn]) tr.className = r[spec.classColumn];
        const flags = spec.flagsColumn !== undefined && spec.flagsColumn !== null ? (r[spec.flagsColumn] || []) : [];
        for (const i of visible) {
          const td = tr.insertCell();
          if (columns[i].align) td.className = columns[i].align;
          if (flags.includes(i)) td.classList.add("outlier");
          formatCell(td, r[i], columns[i]);
        }
      }
      where.textContent = shown.length === 0 ? "no rows"
        : `rows ${first + 1}–${first + slice.length} of ${shown.length.toLocaleString("en")}` + (shown.length !== rows.length ? ` (filtered from ${rows.length.toLocaleString("en")})` : "");
      prev.disabled = page === 0;
      next.disabled = page >= pages - 1;
    }

    prev.addEventListener("click", () => { page--; draw(); });
    next.addEventListener("click", () => { page++; draw(); });
    search.addEventListener("input", filter);
    if (onlyFlagged) onlyFlagged.addEventListener("change", filter);
    host.replaceChildren(controls, table);
    draw();
  }

  async function start() {
    document.querySelectorAll("table.sortable").forEach(sortableTable);
    const hosts = [...document.querySelectorAll("div.datatable")];
    const results = await Promise.allSettled(hosts.map(dataTable));
    results.forEach((r, i) => {
      if (r.status === "rejected") {
        hosts[i].textContent = "This table could not be drawn: " + r.reason;
        console.error("night report: table " + hosts[i].dataset.source + ": " + r.reason);
      }
    });
    document.body.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
