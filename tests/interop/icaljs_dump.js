// Print, as JSON, what Mozilla's ical.js (Thunderbird's parser) sees in each .ics file given:
// for every VEVENT its UID, SUMMARY, STATUS and start and end as UTC instants.
const ICAL = require("ical.js");
const fs = require("fs");
const out = {};
for (const path of process.argv.slice(2)) {
  const root = new ICAL.Component(ICAL.parse(fs.readFileSync(path, "utf8")));
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.register(vtz);
  }
  out[path] = root.getAllSubcomponents("vevent").map((vevent) => {
    const event = new ICAL.Event(vevent);
    return {
      uid: event.uid,
      summary: event.summary,
      status: vevent.getFirstPropertyValue("status"),
      start: event.startDate.toJSDate().toISOString(),
      end: event.endDate.toJSDate().toISOString(),
      zone: event.startDate.zone ? event.startDate.zone.tzid : null,
    };
  });
  for (const vtz of root.getAllSubcomponents("vtimezone")) {
    ICAL.TimezoneService.remove(vtz.getFirstPropertyValue("tzid"));
  }
}
process.stdout.write(JSON.stringify(out));
