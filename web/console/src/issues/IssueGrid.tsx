import "ag-grid-community/styles/ag-grid.css";
import "ag-grid-community/styles/ag-theme-quartz.css";

import { unwrap, type PolicyIssue, type PolicyResultsClient } from "@policyresults/sdk";
import {
  ColumnApiModule,
  createGrid,
  CustomFilterModule,
  DateFilterModule,
  InfiniteRowModelModule,
  ModuleRegistry,
  NumberFilterModule,
  RowSelectionModule,
  TextFilterModule,
  type ColDef,
  type GridApi,
  type ICellRendererParams,
  type IDatasource,
} from "ag-grid-community";
import { useEffect, useRef } from "preact/hooks";

import { formatDate } from "./format";
import { cellValue, columnById, defaultColumns, issueColumns, valueLabel } from "./columns";
import { SetFacetFilter, type SetFacetParams } from "./SetFacetFilter";
import { takePrefetched } from "./prefetch";
import { gridPageSize, rowsRequest, type FilterModel, type IssueView, type SortItem } from "./view";

ModuleRegistry.registerModules([
  ColumnApiModule,
  InfiniteRowModelModule,
  TextFilterModule,
  DateFilterModule,
  NumberFilterModule,
  CustomFilterModule,
  RowSelectionModule,
]);

function badge(kind: "sev" | "status", value: string, label: string): HTMLElement {
  const el = document.createElement("span");
  el.className = `badge ${kind}-${value || "unset"}`;
  el.textContent = label;
  return el;
}

export interface IssueGridProps {
  client: PolicyResultsClient;
  org: string;
  view: IssueView;
  /** The grid's filter, sort or columns changed. */
  onViewChange: (view: IssueView) => void;
  /** The exact number of rows, from each answer. */
  onRowCount: (count: number | undefined) => void;
  onError: (error: unknown) => void;
  onOpen: (issueId: string) => void;
  issueHref: (issueId: string) => string;
  /** Rows get checkboxes; the ids selected are reported on each change. */
  onSelection?: (issueIds: string[]) => void;
  /** A new value reloads the rows and clears the selection (after a batch). */
  reload?: number;
}

/**
 * The issue grid: AG Grid Community's infinite row model over POST /issues.
 * The server sorts, filters and counts; the grid asks for blocks of 100
 * rows as the person scrolls, at any depth. Every cell is text.
 */
export function IssueGrid(props: IssueGridProps) {
  const host = useRef<HTMLDivElement>(null);
  const api = useRef<GridApi<PolicyIssue>>();
  const latest = useRef(props);
  latest.current = props;
  // The view the grid shows, so that its own events don't echo back.
  const shown = useRef<string>("");

  useEffect(() => {
    const p = latest.current;
    const fetchFacets: SetFacetParams["fetchFacets"] = async (field, filterModel) => {
      const { client, org } = latest.current;
      const answer = unwrap(
        await client.POST("/api/orgs/{orgName}/policyresults/issues/filters", {
          params: { path: { orgName: org } },
          body: { field, filterModel: Object.keys(filterModel).length > 0 ? filterModel : null },
        }),
      );
      return answer.values;
    };
    const order = p.view.columns ?? defaultColumns;
    const ordered = [...order.flatMap((id) => columnById.get(id) ?? []), ...issueColumns.filter((c) => !order.includes(c.id))];
    const columnDefs: ColDef<PolicyIssue>[] = ordered.map((c) => {
      const def: ColDef<PolicyIssue> = {
        colId: c.id,
        headerName: c.header,
        width: c.width,
        hide: !order.includes(c.id),
        sort: p.view.sort.find((s) => s.colId === c.id)?.sort ?? null,
        sortIndex: p.view.sort.findIndex((s) => s.colId === c.id) >= 0 ? p.view.sort.findIndex((s) => s.colId === c.id) : null,
        sortable: true,
        resizable: true,
        valueGetter: (v) => (v.data ? cellValue(v.data, c.id) : undefined),
      };
      if (c.filter === "set") {
        def.filter = SetFacetFilter;
        def.filterParams = { fetchFacets, label: (v: string) => valueLabel(c.id, v) } satisfies SetFacetParams;
      } else if (c.filter === "text") {
        def.filter = "agTextColumnFilter";
        def.filterParams = { maxNumConditions: 2, debounceMs: 300 };
      } else if (c.filter === "date") {
        def.filter = "agDateColumnFilter";
        def.filterParams = { maxNumConditions: 1 };
        def.valueFormatter = (v) => formatDate(v.value as string | undefined);
      } else {
        def.filter = "agNumberColumnFilter";
        def.filterParams = { maxNumConditions: 1 };
      }
      if (c.id === "severity") def.cellRenderer = (r: ICellRendererParams<PolicyIssue>) => (r.data ? badge("sev", r.data.severity, valueLabel("severity", r.data.severity)) : "");
      if (c.id === "status") def.cellRenderer = (r: ICellRendererParams<PolicyIssue>) => (r.data ? badge("status", r.data.status, valueLabel("status", r.data.status)) : "");
      if (c.id === "policyName") {
        def.cellRenderer = (r: ICellRendererParams<PolicyIssue>) => {
          if (!r.data) return "";
          const id = r.data.id;
          const a = document.createElement("a");
          a.className = "cell-link";
          a.href = latest.current.issueHref(id);
          a.textContent = r.data.policyName;
          a.addEventListener("click", (e) => {
            if (e.button === 0 && !e.metaKey && !e.ctrlKey && !e.shiftKey) {
              e.preventDefault();
              latest.current.onOpen(id);
            }
          });
          return a;
        };
      }
      return def;
    });
    const datasource: IDatasource = {
      getRows: (params) => {
        const { client, org, view } = latest.current;
        const request = rowsRequest(
          { ...view, filter: params.filterModel as FilterModel, sort: params.sortModel as SortItem[] },
          params.startRow,
          params.endRow,
        );
        (takePrefetched(org, request) ?? client.POST("/api/orgs/{orgName}/policyresults/issues", { params: { path: { orgName: org } }, body: request }).then(unwrap))
          .then(
            (page) => {
              latest.current.onRowCount(page.rowCount);
              params.successCallback(page.policyIssues, page.rowCount ?? -1);
            },
            (err: unknown) => {
              params.failCallback();
              latest.current.onError(err);
            },
          );
      },
    };
    const grid = createGrid<PolicyIssue>(host.current!, {
      theme: "legacy",
      columnDefs,
      rowModelType: "infinite",
      cacheBlockSize: gridPageSize,
      maxBlocksInCache: 50,
      maxConcurrentDatasourceRequests: 2,
      blockLoadDebounceMillis: 30,
      rowHeight: 34,
      headerHeight: 38,
      getRowId: (r) => r.data.id,
      rowSelection: p.onSelection ? { mode: "multiRow", checkboxes: true, headerCheckbox: false, enableClickSelection: false } : undefined,
      onSelectionChanged: () => latest.current.onSelection?.(grid.getSelectedRows().map((r) => r.id)),
      onRowClicked: (e) => {
        const target = e.event?.target as HTMLElement | undefined;
        if (e.data && !target?.closest("a, .ag-selection-checkbox, input")) latest.current.onOpen(e.data.id);
      },
      onCellKeyDown: (e) => {
        const key = (e.event as KeyboardEvent | undefined)?.key;
        if (key === "Enter" && e.data) latest.current.onOpen(e.data.id);
      },
      onFilterChanged: () => report(),
      onSortChanged: () => report(),
      onColumnVisible: () => report(),
      onColumnMoved: (e) => {
        if (e.finished) report();
      },
    });
    // The view's filter goes in before the datasource, so the first request
    // is already the filtered one.
    grid.setFilterModel(p.view.filter);
    grid.setGridOption("datasource", datasource);
    api.current = grid;
    shown.current = key(p.view);
    function report() {
      const current = latest.current.view;
      const next: IssueView = {
        ...current,
        filter: (grid.getFilterModel() ?? {}) as FilterModel,
        sort: grid
          .getColumnState()
          .filter((s) => s.sort)
          .sort((a, b) => (a.sortIndex ?? 0) - (b.sortIndex ?? 0))
          .map((s) => ({ colId: s.colId, sort: s.sort as "asc" | "desc" })),
      };
      const cols = grid
        .getAllDisplayedColumns()
        .map((c) => c.getColId())
        .filter((id) => columnById.has(id));
      next.columns = cols.join() === defaultColumns.join() ? undefined : cols;
      if (key(next) !== key(current)) {
        shown.current = key(next);
        latest.current.onViewChange(next);
      }
    }
    return () => grid.destroy();
  }, []);

  const firstReload = useRef(props.reload);
  useEffect(() => {
    const grid = api.current;
    if (!grid || props.reload === firstReload.current) return;
    firstReload.current = props.reload;
    grid.deselectAll();
    grid.purgeInfiniteCache();
  }, [props.reload]);

  // A view that changed elsewhere (a link, back, a chip removed) is applied
  // to the grid; the grouping keys need a fresh datasource.
  const groupKey = JSON.stringify([props.view.groupBy, props.view.groupKeys]);
  const firstGroup = useRef(groupKey);
  useEffect(() => {
    const grid = api.current;
    if (!grid) return;
    if (groupKey !== firstGroup.current) {
      firstGroup.current = groupKey;
      grid.purgeInfiniteCache();
    }
    if (key(props.view) === shown.current) return;
    shown.current = key(props.view);
    const cols = props.view.columns ?? defaultColumns;
    grid.applyColumnState({
      state: [
        ...cols.filter((c) => columnById.has(c)).map((colId) => ({ colId, hide: false })),
        ...issueColumns.filter((c) => !cols.includes(c.id)).map((c) => ({ colId: c.id, hide: true })),
      ],
      applyOrder: true,
    });
    grid.applyColumnState({
      state: props.view.sort.map((s, i) => ({ colId: s.colId, sort: s.sort, sortIndex: i })),
      defaultState: { sort: null },
    });
    grid.setFilterModel(props.view.filter);
  }, [key(props.view), groupKey]);

  return <div ref={host} class="ag-theme-quartz grid-host" />;
}

function key(view: IssueView): string {
  return JSON.stringify([view.filter, view.sort, view.columns ?? null]);
}
