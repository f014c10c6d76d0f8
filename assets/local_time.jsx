// A time in the browser's own zone and locale: relative when recent ("3 min ago"), the date
// and time otherwise; the full date, time and zone on hover (title). A React component, so
// Reflex's re-renders update it like any other text; it refreshes itself every 30 s.
import { useEffect, useState } from "react";

const RECENT_MS = 24 * 3600 * 1000;
const UNITS = [
  ["year", 365 * 24 * 3600],
  ["month", 30 * 24 * 3600],
  ["day", 24 * 3600],
  ["hour", 3600],
  ["minute", 60],
  ["second", 1],
];

function parse(value) {
  if (!value) return null;
  // SQLite keeps UTC without its zone: a time without an offset is UTC.
  const text = /[zZ]|[+-]\d\d:?\d\d$/.test(value) ? value : value + "Z";
  const date = new Date(text);
  return isNaN(date.getTime()) ? null : date;
}

export function fullTime(date) {
  return new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium",
    timeStyle: "long",
  }).format(date);
}

export function shortTime(date, now, mode) {
  const ago = now - date.getTime();
  if (mode !== "absolute" && Math.abs(ago) < RECENT_MS) {
    const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto", style: "long" });
    const seconds = -ago / 1000;
    if (Math.abs(seconds) < 45) return rtf.format(0, "second");
    for (const [unit, size] of UNITS) {
      if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
    }
  }
  return new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" }).format(
    date
  );
}

export function LocalTime({ dateTime, mode, fallback, ...rest }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 30000);
    return () => clearInterval(timer);
  }, []);
  const date = parse(dateTime);
  if (!date) return <span {...rest}>{fallback || ""}</span>;
  return (
    <time dateTime={date.toISOString()} title={fullTime(date)} data-local-time="" {...rest}>
      {shortTime(date, now, mode)}
    </time>
  );
}
