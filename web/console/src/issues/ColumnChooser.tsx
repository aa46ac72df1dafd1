import { useEffect, useRef, useState } from "preact/hooks";

import { defaultColumns, issueColumns } from "./columns";

/**
 * Keeps Tab inside a modal dialog: a modal <dialog> makes the page behind it
 * inert, but Tab from its last control still leaves it for the browser's
 * own UI; this wraps it around to the first control (and Shift+Tab back).
 */
export function trapTab(e: KeyboardEvent): void {
  if (e.key !== "Tab") return;
  const box = e.currentTarget as HTMLElement;
  const controls = [...box.querySelectorAll<HTMLElement>("button, input, select, textarea, a[href], [tabindex]:not([tabindex='-1'])")].filter(
    (el) => !(el as HTMLButtonElement).disabled,
  );
  const first = controls[0];
  const last = controls[controls.length - 1];
  if (!first || !last) return;
  if (e.shiftKey && document.activeElement === first) {
    e.preventDefault();
    last.focus();
  } else if (!e.shiftKey && document.activeElement === last) {
    e.preventDefault();
    first.focus();
  }
}

/**
 * Chooses the grid's columns in a modal dialog (the browser's <dialog>: the
 * page behind is inert, Escape closes it; trapTab keeps Tab inside).
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
      <dialog ref={dialog} aria-labelledby="columns-title" onClose={() => setOpen(false)} onKeyDown={trapTab}>
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
