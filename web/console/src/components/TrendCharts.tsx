import { unwrap, type Schemas } from "@policyresults/sdk";
import { useState } from "preact/hooks";

import { useAsync } from "../app/useAsync";
import { useSession } from "../app/SessionContext";
import { severityLabel } from "./Badges";
import { ErrorNotice, Loading } from "./StatusBlocks";

/** The ranges the trend charts offer, in days; a year is shown by week. */
export const trendRanges = [30, 90, 365] as const;

const number = new Intl.NumberFormat("en");

/** The request of a range ending today (UTC): its start and end dates and interval. */
export function trendRequest(days: number, today: Date = new Date()): Schemas["PolicyResultsTrendsRequest"] {
  const day = (d: Date) => d.toISOString().slice(0, 10);
  const from = new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate() - (days - 1)));
  return { from: day(from), to: day(today), interval: days > 90 ? "week" : "day", groupBy: "severity" };
}

/** One line of a chart: its label, the class that colours it and one value (or none) per interval. */
export interface TrendLine {
  label: string;
  className: string;
  values: (number | null)[];
}

/** The polylines of a series, split where values are missing, as SVG points in a width × height box. */
export function linePoints(values: (number | null)[], max: number, width: number, height: number): string[] {
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  const segments: string[] = [];
  let current: string[] = [];
  values.forEach((v, i) => {
    if (v === null) {
      if (current.length) segments.push(current.join(" "));
      current = [];
      return;
    }
    const x = values.length > 1 ? i * step : width / 2;
    const y = height - (max > 0 ? (v / max) * height : 0);
    current.push(`${x.toFixed(1)},${y.toFixed(1)}`);
  });
  if (current.length) segments.push(current.join(" "));
  return segments;
}

const chartWidth = 320;
const chartHeight = 120;

/** A small line chart drawn as SVG: a few lines over the intervals, with the y axis' maximum and the start and end dates. */
function LineChart({ id, title, unit, intervals, lines }: { id: string; title: string; unit: string; intervals: string[]; lines: TrendLine[] }) {
  const max = Math.max(0, ...lines.flatMap((l) => l.values.filter((v): v is number => v !== null)));
  const summary = lines
    .map((l) => {
      const last = [...l.values].reverse().find((v) => v !== null);
      return `${l.label}: ${last === undefined || last === null ? "none" : number.format(last)}`;
    })
    .join(", ");
  return (
    <figure class="card trend-chart" aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>{title}</h3>
      {lines.length === 0 ? (
        <p class="muted">Nothing in this range.</p>
      ) : (
        <>
          <svg
            viewBox={`-34 -8 ${chartWidth + 42} ${chartHeight + 26}`}
            role="img"
            aria-label={`${title} from ${intervals[0]} to ${intervals[intervals.length - 1]}; latest ${summary}`}
          >
            <line class="trend-axis" x1="0" y1={chartHeight} x2={chartWidth} y2={chartHeight} />
            <line class="trend-axis" x1="0" y1="0" x2="0" y2={chartHeight} />
            <text class="trend-tick" x="-4" y="4" text-anchor="end">
              {number.format(Math.round(max))}
            </text>
            <text class="trend-tick" x="-4" y={chartHeight} text-anchor="end">
              0
            </text>
            <text class="trend-tick" x="0" y={chartHeight + 16}>
              {intervals[0]}
            </text>
            <text class="trend-tick" x={chartWidth} y={chartHeight + 16} text-anchor="end">
              {intervals[intervals.length - 1]}
            </text>
            {lines.map((l) =>
              linePoints(l.values, max, chartWidth, chartHeight).map((points, i) =>
                points.includes(" ") ? (
                  <polyline key={`${l.label}-${i}`} class={`trend-line ${l.className}`} points={points} />
                ) : (
                  <circle key={`${l.label}-${i}`} class={`trend-dot ${l.className}`} cx={points.split(",")[0]} cy={points.split(",")[1]} r="2" />
                ),
              ),
            )}
          </svg>
          <figcaption>
            <ul class="trend-legend">
              {lines.map((l) => (
                <li key={l.label}>
                  <span class={`trend-swatch ${l.className}`} aria-hidden="true" />
                  {l.label}
                </li>
              ))}
            </ul>
            <span class="muted">{unit}</span>
          </figcaption>
        </>
      )}
    </figure>
  );
}

/** The lines of the three charts from a trend grouped by severity. */
export function trendLines(t: Schemas["PolicyResultsTrends"]): { active: TrendLine[]; flow: TrendLine[]; fix: TrendLine[] } {
  const sum = (pick: (s: Schemas["PolicyResultsTrendSeries"]) => number[]) =>
    t.intervals.map((_, i) => t.series.reduce((n, s) => n + (pick(s)[i] ?? 0), 0));
  const sev = (name: string) => `sev-${name || "unset"}`;
  return {
    active: t.series.map((s) => ({ label: severityLabel(s.value), className: sev(s.value), values: s.activeIssues })),
    flow: [
      { label: "Opened", className: "flow-opened", values: sum((s) => s.opened) },
      { label: "Fixed", className: "flow-fixed", values: sum((s) => s.fixed) },
    ],
    fix: t.meanTimeToFix.map((m) => ({ label: severityLabel(m.name), className: sev(m.name), values: m.values })),
  };
}

/** The overview's trend charts: active issues by severity, opened vs fixed, mean time to fix; over 30, 90 or 365 days. */
export function TrendCharts() {
  const { client, org } = useSession();
  const [days, setDays] = useState<number>(90);
  const trends = useAsync(
    async (signal) =>
      unwrap(
        await client.POST("/api/orgs/{orgName}/policyresults/trends", {
          params: { path: { orgName: org } },
          body: trendRequest(days),
          signal,
        }),
      ),
    [client, org, days],
  );
  const lines = trends.data ? trendLines(trends.data) : undefined;
  const per = trends.data?.interval === "week" ? "per week" : "per day";
  return (
    <section class="trends" aria-labelledby="trends-title">
      <div class="section-head">
        <h2 id="trends-title">Trends</h2>
        <div class="segmented" role="group" aria-label="Range of the trends">
          {trendRanges.map((d) => (
            <button type="button" key={d} aria-pressed={d === days} onClick={() => setDays(d)}>
              {d} days
            </button>
          ))}
        </div>
      </div>
      {trends.error ? (
        <ErrorNotice error={trends.error} title="The trends could not be loaded" action={{ label: "Retry", run: trends.reload }} />
      ) : !trends.data || !lines ? (
        <Loading label="Loading the trends" />
      ) : (
        <div class="trend-charts">
          <LineChart id="trend-active" title="Active issues by severity" unit="at the end of each interval" intervals={trends.data.intervals} lines={lines.active} />
          <LineChart id="trend-flow" title="Opened vs fixed" unit={`issues ${per}`} intervals={trends.data.intervals} lines={lines.flow} />
          <LineChart id="trend-fix" title="Mean time to fix" unit={`hours, of the issues fixed ${per}`} intervals={trends.data.intervals} lines={lines.fix} />
        </div>
      )}
    </section>
  );
}
