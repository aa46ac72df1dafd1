import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/** The state of one asynchronous load. */
export interface AsyncState<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Loads again (keeps the current data until the new answer). */
  reload: () => void;
}

/**
 * Runs `load` whenever `deps` change and keeps the latest answer; an answer
 * that arrives after a newer load started is dropped, and the abort signal
 * cancels the request it belonged to. Pages read a handful of endpoints
 * each, so this small hook is all the data layer they need.
 */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, deps: unknown[]): AsyncState<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  const current = useRef(0);
  useEffect(() => {
    const id = ++current.current;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, error: undefined }));
    load(controller.signal).then(
      (data) => {
        if (id === current.current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (id === current.current && !controller.signal.aborted) setState({ data: undefined, error, loading: false });
      },
    );
    return () => controller.abort();
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
