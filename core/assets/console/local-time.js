// The setup console's one script: each <time datetime="…Z"> shows in the browser's own
// time zone; the UTC time stays as its tooltip. Without it the page shows UTC.
for (const time of document.querySelectorAll("time[datetime]")) {
  const at = new Date(time.dateTime);
  if (!Number.isNaN(at.getTime())) {
    time.textContent = at.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
  }
}
