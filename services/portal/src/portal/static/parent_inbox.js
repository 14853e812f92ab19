// The inbox's live updates: an EventSource on the portal's /parent/inbox/stream (which relays notifications'
// server-sent events with the parent's token kept on the server). A new message is added at the top of the list;
// text goes in with textContent, never as HTML.
document.addEventListener("DOMContentLoaded", function () {
  var list = document.getElementById("messages");
  var live = document.getElementById("inbox-live");
  if (!list || typeof EventSource === "undefined") { return; }
  var source = new EventSource("/parent/inbox/stream");
  source.addEventListener("ready", function () {
    live.dataset.live = "on";
    live.textContent = live.dataset.on;
  });
  source.addEventListener("unavailable", function () {
    live.dataset.live = "off";
    live.textContent = live.dataset.off;
  });
  source.addEventListener("message", function (event) {
    var m = JSON.parse(event.data);
    if (list.querySelector('[data-message-id="' + m.id + '"]')) { return; }
    var item = document.createElement("li");
    item.className = "row message unread";
    item.dataset.messageId = m.id;
    var text = document.createElement("span");
    var title = document.createElement("strong");
    title.textContent = m.title;
    text.appendChild(title);
    if (m.body) { text.appendChild(document.createElement("br")); text.appendChild(document.createTextNode(m.body)); }
    item.appendChild(text);
    list.insertBefore(item, list.firstChild);
    var empty = document.getElementById("inbox-empty");
    if (empty) { empty.hidden = true; }
  });
  source.onerror = function () {
    live.dataset.live = "off";
    live.textContent = live.dataset.off;
  };
});
