import { useEffect, useRef, useState } from "preact/hooks";

import { defaultColumns, issueColumns } from "./columns";

/**
 * Chooses the grid's columns in a modal dialog (the browser's <dialog>
 * keeps the focus inside it and Escape closes it).
 */
export function ColumnChooser({ columns, onChange }: { columns: string[] | undefined; onChange: (cols: string[] | undefined) => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [open, setOpen] = useState(false);
  const [chosen, setChosen] = useState<string[]>(columns ?? defaultColumns);
  useEffect(() => {
    if (open) {
      setChosen(columns ?? defaultColumns);
      dialog.current?.showModal();
    } else dialog.current?.close();
  }, [open]);

  const apply = () => {
    // Keep the current order; newly ticked columns go last.
    const current = columns ?? defaultColumns;
    const ordered = [...current.filter((c) => chosen.includes(c)), ...chosen.filter((c) => !current.includes(c))];
    onChange(ordered.join() === defaultColumns.join() ? undefined : ordered);
    setOpen(false);
  };

  return (
    <>
      <button type="button" class="button" onClick={() => setOpen(true)} aria-haspopup="dialog">
        Columns
      </button>
      <dialog ref={dialog} aria-labelledby="columns-title" onClose={() => setOpen(false)}>
        <h2 id="columns-title">Columns</h2>
        <ul class="column-list">
          {issueColumns.map((c) => (
            <li key={c.id}>
              <label>
                <input
                  type="checkbox"
                  checked={chosen.includes(c.id)}
                  onChange={(e) => {
                    const on = (e.target as HTMLInputElement).checked;
                    setChosen(on ? [...chosen, c.id] : chosen.filter((x) => x !== c.id));
                  }}
                />
                {c.header}
              </label>
            </li>
          ))}
        </ul>
        <div class="dialog-actions">
          <button type="button" class="button" onClick={() => setChosen(defaultColumns)}>
            Defaults
          </button>
          <button type="button" class="button" onClick={() => setOpen(false)}>
            Cancel
          </button>
          <button type="button" class="button button-primary" onClick={apply} disabled={chosen.length === 0}>
            Apply
          </button>
        </div>
      </dialog>
    </>
  );
}
