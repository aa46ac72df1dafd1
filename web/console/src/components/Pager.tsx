const number = new Intl.NumberFormat("en");

/** Previous and next through rows `start`..`start+pageSize` of `total`; nothing when all fit on one page. */
export function Pager({ start, pageSize, total, onChange }: { start: number; pageSize: number; total: number; onChange: (start: number) => void }) {
  if (total <= pageSize) return null;
  return (
    <div class="pager section">
      <button type="button" class="button" disabled={start === 0} onClick={() => onChange(Math.max(0, start - pageSize))}>
        Previous
      </button>
      <span class="muted">
        {number.format(start + 1)}–{number.format(Math.min(start + pageSize, total))} of {number.format(total)}
      </span>
      <button type="button" class="button" disabled={start + pageSize >= total} onClick={() => onChange(start + pageSize)}>
        Next
      </button>
    </div>
  );
}
