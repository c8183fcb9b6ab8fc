import { Bar, BarChart, CartesianGrid, Cell, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";
import type { DistributionRow } from "../../lib/emotions";
import { formatPercent } from "../../lib/format";

/** Share of the moments with a face in which each expression was the most likely one. */
export function DistributionChart({ rows }: { rows: DistributionRow[] }) {
  return (
    <figure className="chart" data-testid="distribution-chart">
      <div className="chart__canvas" style={{ height: 280 }} role="img" aria-label={`Distribution of expressions: ${rows.map((r) => `${r.label} ${formatPercent(r.share)}`).join(", ")}`}>
        <ResponsiveContainer width="100%" height="100%" initialDimension={{ width: 640, height: 300 }}>
          <BarChart data={rows} layout="vertical" margin={{ top: 4, right: 16, bottom: 4, left: 4 }} barCategoryGap={6}>
            <CartesianGrid strokeDasharray="3 3" horizontal={false} stroke="#e3e0d8" />
            <XAxis type="number" domain={[0, 1]} ticks={[0, 0.25, 0.5, 0.75, 1]} tickFormatter={(v: number) => formatPercent(v)} tickLine={false} axisLine={false} tick={{ fontSize: 12, fill: "#4a5560" }} />
            <YAxis type="category" dataKey="label" width={72} tickLine={false} axisLine={false} interval={0} tick={{ fontSize: 13, fill: "#1d2a33" }} />
            <Tooltip
              cursor={{ fill: "rgba(31,111,102,0.06)" }}
              formatter={(value) => [formatPercent(Number(value), 1), "Share of moments"]}
              contentStyle={{ borderRadius: 10, border: "1px solid #e3e0d8" }}
            />
            <Bar dataKey="share" radius={[0, 6, 6, 0]} isAnimationActive={false} background={{ fill: "#f4f2ec", radius: 6 }}>
              {rows.map((r) => (
                <Cell key={r.emotion} fill={r.color} />
              ))}
            </Bar>
          </BarChart>
        </ResponsiveContainer>
      </div>
      <figcaption className="chart__caption">
        How often each expression was the most likely one, across the moments where a face was visible.
      </figcaption>
    </figure>
  );
}
