// A set filter for AG Grid Community (its own set filter is an Enterprise
// feature): the column's values with their counts from POST
// /issues/filters, among the issues the other filters leave. Built with DOM
// calls and textContent only: values are ingested data, never HTML.
import type { IDoesFilterPassParams, IFilterComp, IFilterParams } from "ag-grid-community";

/** One choice: a value and how many issues have it. */
export interface Facet {
  name: string;
  count: number;
}

/** What the filter needs from the page. */
export interface SetFacetParams {
  /** Loads the column's values among the issues of the grid's other filters. */
  fetchFacets: (colId: string, filterModel: Record<string, unknown>) => Promise<Facet[]>;
  /** How a value reads. */
  label: (value: string) => string;
}

const number = new Intl.NumberFormat("en");

export class SetFacetFilter implements IFilterComp {
  private params!: IFilterParams & SetFacetParams;
  private gui!: HTMLDivElement;
  private list!: HTMLUListElement;
  private search!: HTMLInputElement;
  private status!: HTMLParagraphElement;
  private selected = new Set<string>();
  private facets: Facet[] = [];

  init(params: IFilterParams & SetFacetParams): void {
    this.params = params;
    const colId = params.column.getColId();
    const header = params.colDef.headerName ?? colId;
    this.gui = document.createElement("div");
    this.gui.className = "set-filter";
    this.search = document.createElement("input");
    this.search.type = "search";
    this.search.placeholder = "Search values";
    this.search.setAttribute("aria-label", `Search the values of ${header}`);
    this.search.addEventListener("input", () => this.render());
    this.status = document.createElement("p");
    this.status.className = "muted";
    this.status.setAttribute("role", "status");
    this.list = document.createElement("ul");
    this.list.setAttribute("aria-label", `Values of ${header}`);
    const actions = document.createElement("div");
    actions.className = "actions";
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "button";
    clear.textContent = "Clear";
    clear.addEventListener("click", () => {
      this.selected.clear();
      this.render();
      this.params.filterChangedCallback();
    });
    actions.append(clear);
    this.gui.append(this.search, this.status, this.list, actions);
  }

  getGui(): HTMLElement {
    return this.gui;
  }

  isFilterActive(): boolean {
    return this.selected.size > 0;
  }

  // The server filters; the grid never filters rows itself (infinite row model).
  doesFilterPass(_params: IDoesFilterPassParams): boolean {
    return true;
  }

  getModel(): { filterType: "set"; values: string[] } | null {
    return this.selected.size > 0 ? { filterType: "set", values: [...this.selected] } : null;
  }

  setModel(model: { values?: unknown[] } | null): void {
    this.selected = new Set((model?.values ?? []).map(String));
    this.render();
  }

  afterGuiAttached(): void {
    void this.load();
    this.search.focus();
  }

  private async load(): Promise<void> {
    this.status.textContent = "Loading values…";
    try {
      const model = (this.params.api.getFilterModel() ?? {}) as Record<string, unknown>;
      this.facets = await this.params.fetchFacets(this.params.column.getColId(), model);
      this.status.textContent = "";
    } catch (err) {
      this.status.textContent = `The values could not be loaded: ${err instanceof Error ? err.message : String(err)}`;
    }
    this.render();
  }

  private render(): void {
    if (!this.list) return;
    const q = this.search.value.trim().toLowerCase();
    const known = new Set(this.facets.map((f) => f.name));
    // Selected values that no longer match keep their box, to be unticked.
    const all = [...this.facets, ...[...this.selected].filter((v) => !known.has(v)).map((name) => ({ name, count: 0 }))];
    const items = all.filter((f) => q === "" || this.params.label(f.name).toLowerCase().includes(q));
    this.list.replaceChildren(
      ...items.map((f) => {
        const li = document.createElement("li");
        const label = document.createElement("label");
        const box = document.createElement("input");
        box.type = "checkbox";
        box.checked = this.selected.has(f.name);
        box.value = f.name;
        box.addEventListener("change", () => {
          if (box.checked) this.selected.add(f.name);
          else this.selected.delete(f.name);
          this.params.filterChangedCallback();
        });
        const text = document.createElement("span");
        text.textContent = this.params.label(f.name);
        const n = document.createElement("span");
        n.className = "n";
        n.textContent = number.format(f.count);
        label.append(box, text, n);
        li.append(label);
        return li;
      }),
    );
    if (items.length === 0 && this.status.textContent === "") this.status.textContent = "No values.";
  }
}
