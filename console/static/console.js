// The console's only script: local times, and new events pushed to the events page.
"use strict";

function showTimes(root) {
  root.querySelectorAll("[data-at]").forEach(function (cell) {
    var at = new Date(parseFloat(cell.dataset.at) * 1000);
    cell.textContent = at.toLocaleString();
  });
}

function cell(row, text) {
  var td = document.createElement("td");
  td.textContent = text;
  row.appendChild(td);
  return td;
}

function eventRow(table, entry) {
  var row = document.createElement("tr");
  row.className = entry.outcome.split(":")[0] + " fresh";
  var link = document.createElement("a");
  link.href = table.dataset.link + entry.id;
  link.textContent = entry.id;
  cell(row, "").appendChild(link);
  cell(row, "").dataset.at = entry.at;
  cell(row, entry.service);
  cell(row, entry.kind === "remote_collection" ? entry.event + " (collection)" : entry.event);
  cell(row, entry.outcome + (entry.replay_of ? " (replay of " + entry.replay_of + ")" : ""));
  cell(row, (entry.duration * 1000).toFixed(1) + " ms");
  showTimes(row);
  return row;
}

function followEvents(table) {
  var source = new EventSource(table.dataset.stream + "?after=" + table.dataset.after);
  var body = table.querySelector("tbody");
  source.onmessage = function (message) {
    var entry = JSON.parse(message.data);
    body.insertBefore(eventRow(table, entry), body.firstChild);
  };
}

showTimes(document);
var eventsTable = document.getElementById("events");
if (eventsTable) {
  followEvents(eventsTable);
}
