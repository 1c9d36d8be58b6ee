import { useEffect, useState } from 'preact/hooks';

/**
 * The page's query string as state. `navigate` pushes a history entry (a filter change, so Back
 * returns to the previous view) or replaces the current one (opening a contact, changing sort
 * direction twice is still one step); Back and Forward set it again.
 */
export function useUrlState(initial: string): [string, (search: string, options?: { replace?: boolean }) => void] {
  const [search, setSearch] = useState(initial);
  useEffect(() => {
    const onPop = () => setSearch(window.location.search);
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, []);
  const navigate = (next: string, options: { replace?: boolean } = {}) => {
    if (next === window.location.search) return;
    const url = `${window.location.pathname}${next}`;
    if (options.replace) window.history.replaceState(null, '', url);
    else window.history.pushState(null, '', url);
    setSearch(next);
  };
  return [search, navigate];
}
