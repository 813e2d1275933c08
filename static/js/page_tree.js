/* The page tree's drag and drop (templates/admin/sitecontent/page/tree.html).
 *
 * Drag a page's row before, after or onto another row. A new place among the same
 * siblings POSTs the new order to the reorder endpoint; anywhere else POSTs a move
 * (new parent, position among the new siblings). On success the page reloads and shows
 * the server's message; on an error the message is announced and nothing changes.
 * The Move up / Move down / Move under… controls are plain forms and links that work
 * without this script.
 */
(function () {
  "use strict";

  const root = document.getElementById("page-tree");
  if (!root) return;
  const status = document.getElementById("page-tree-status");
  const csrf = root.querySelector("input[name=csrfmiddlewaretoken]").value;
  let dragged = null;
  let target = null;
  let where = null;

  function nodeOf(element) {
    return element && element.closest ? element.closest("li.tree-node") : null;
  }

  function siblingsOf(node) {
    return Array.from(node.parentElement.children).filter(function (el) {
      return el.matches("li.tree-node");
    });
  }

  function clearMarks() {
    root.querySelectorAll(".drop-before, .drop-after, .drop-inside").forEach(function (el) {
      el.classList.remove("drop-before", "drop-after", "drop-inside");
    });
  }

  function zone(row, clientY) {
    const box = row.getBoundingClientRect();
    const offset = (clientY - box.top) / box.height;
    if (offset < 0.3) return "before";
    if (offset > 0.7) return "after";
    return "inside";
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle("page-tree-error", Boolean(isError));
  }

  function post(url, body) {
    say(root.dataset.textSaving);
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "X-CSRFToken": csrf,
        Accept: "application/json",
      },
      body: JSON.stringify(body),
    })
      .then(function (response) {
        return response.json().then(
          function (data) { return { ok: response.ok, data: data }; },
          // Not JSON (a proxy's error page, say): say so rather than fail silently.
          function () { return { ok: false, data: {} }; }
        );
      })
      .then(function (result) {
        if (result.ok) {
          window.location.reload();
        } else {
          say(result.data.message || root.dataset.textFailed, true);
        }
      })
      .catch(function () {
        say(root.dataset.textOffline, true);
      });
  }

  function drop(page, onto, place) {
    const pageId = page.dataset.pageId;
    if (place === "inside") {
      return post(root.dataset.moveUrl, { page: pageId, parent: onto.dataset.pageId, position: "end" });
    }
    const parentId = onto.dataset.parentId || null;
    const others = siblingsOf(onto).filter(function (el) { return el !== page; });
    const position = others.indexOf(onto) + (place === "after" ? 1 : 0);
    if ((page.dataset.parentId || null) === parentId) {
      const order = others.map(function (el) { return el.dataset.pageId; });
      order.splice(position, 0, pageId);
      return post(root.dataset.reorderUrl, { parent: parentId, ordered_ids: order.map(Number) });
    }
    return post(root.dataset.moveUrl, { page: pageId, parent: parentId, position: position });
  }

  root.addEventListener("dragstart", function (event) {
    const node = nodeOf(event.target);
    if (!node || node.dataset.movable !== "true") return;
    dragged = node;
    node.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", node.dataset.pageId);
  });

  root.addEventListener("dragover", function (event) {
    if (!dragged) return;
    const row = event.target.closest ? event.target.closest(".tree-row") : null;
    const node = nodeOf(row);
    // Not onto itself, nor anywhere inside itself: a page cannot go under itself.
    if (!row || !node || dragged.contains(node)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    target = node;
    where = zone(row, event.clientY);
    row.classList.add("drop-" + where);
  });

  root.addEventListener("dragleave", function (event) {
    if (event.target.classList && event.target.classList.contains("tree-row")) {
      event.target.classList.remove("drop-before", "drop-after", "drop-inside");
    }
  });

  root.addEventListener("drop", function (event) {
    if (!dragged || !target) return;
    event.preventDefault();
    const page = dragged, onto = target, place = where;
    clearMarks();
    drop(page, onto, place);
  });

  root.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    clearMarks();
    dragged = target = where = null;
  });
})();
