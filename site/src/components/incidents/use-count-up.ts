import { useEffect, useRef, useState } from 'preact/hooks';

/**
 * A number that runs from where it stands to `target` over `ms`, eased, as the seed's impact
 * meter does; at once when the reader asks for reduced motion or the page is hidden. Returns the
 * value to draw now.
 */
export function useCountUp(target: number, ms = 1_200): number {
  const [shown, setShown] = useState(target);
  const from = useRef(target);
  const current = useRef(target);
  current.current = shown;
  useEffect(() => {
    from.current = current.current;
    const start = from.current;
    if (start === target) return;
    const still = window.matchMedia?.('(prefers-reduced-motion: reduce)').matches || document.visibilityState !== 'visible';
    if (still) {
      setShown(target);
      return;
    }
    let frame = 0;
    let t0: number | null = null;
    const tick = (now: number) => {
      t0 ??= now;
      const p = Math.min(1, (now - t0) / ms);
      const eased = 1 - (1 - p) ** 3;
      setShown(p >= 1 ? target : start + (target - start) * eased);
      if (p < 1) frame = requestAnimationFrame(tick);
    };
    frame = requestAnimationFrame(tick);
    return () => cancelAnimationFrame(frame);
  }, [target]);
  return shown;
}
