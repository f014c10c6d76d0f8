// Live progress of running jobs, kept in the browser beside Reflex's state.
//
// A running job's progress (percentage, counts, step, speed, ETA) changes many times a second
// and nothing else about it does. The app sends those updates as one small frame per account
// (jobboard/state/live.py) instead of re-rendering every session's rows on the server; the
// frame lands in LiveState.frame, <LiveFeed> keeps the newest entry of each job here, and the
// Live* components below show it wherever a job's progress is on the page. A row's own value
// still wins when it is newer (its version is higher): endings, retries and reloads come
// through the rows as before.
import { useCallback, useLayoutEffect, useSyncExternalStore } from "react";
import { Progress } from "@radix-ui/themes";
import { LocalTime } from "./local_time.jsx";

const KEPT = 500; // entries of jobs seen in this tab; the oldest go first
const entries = new Map(); // job id -> newest entry: {version, percentage, step, ...}
const listeners = new Map(); // job id -> Set of re-render callbacks

function publish(frame) {
  for (const id in frame || {}) {
    const entry = frame[id];
    const known = entries.get(id);
    if (!entry || (known && known.version >= entry.version)) continue;
    entries.delete(id); // re-inserted last: Map order is the eviction order
    entries.set(id, entry);
    const waiting = listeners.get(id);
    if (waiting) for (const fn of waiting) fn();
  }
  while (entries.size > KEPT) entries.delete(entries.keys().next().value);
}

export function LiveFeed({ frame }) {
  // Before paint: the rows that changed re-render in this same frame.
  useLayoutEffect(() => publish(frame), [frame]);
  return null;
}

function useNewest(jobId, version) {
  const subscribe = useCallback(
    (changed) => {
      let set = listeners.get(jobId);
      if (!set) listeners.set(jobId, (set = new Set()));
      set.add(changed);
      return () => {
        set.delete(changed);
        if (!set.size) listeners.delete(jobId);
      };
    },
    [jobId]
  );
  const entry = useSyncExternalStore(subscribe, () => entries.get(jobId));
  return entry && entry.version > (version || 0) ? entry : null;
}

export function LiveText({ jobId, version, name, value, ...rest }) {
  const entry = useNewest(jobId, version);
  const shown = entry ? entry[name] : value;
  return <span {...rest}>{shown ?? ""}</span>;
}

export function LiveProgress({ jobId, version, value, label, ...rest }) {
  const entry = useNewest(jobId, version);
  const shown = Math.round((entry ? entry.percentage : value) || 0);
  return <Progress value={shown} max={100} aria-label={label} {...rest} />;
}

export function LiveTime({ jobId, version, name, value, ...rest }) {
  const entry = useNewest(jobId, version);
  return <LocalTime dateTime={entry ? entry[name] : value} {...rest} />;
}
