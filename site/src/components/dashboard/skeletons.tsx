/*
 * Skeletons: the shape of what is loading, so the grid does not jump when data arrives. The
 * blocks are decoration (the progressbar role's children are presentational); the label is what
 * assistive technology announces, and the tile or card around it is aria-busy.
 */

export function KpiSkeleton({ label }: { label: string }) {
  return (
    <div class="skeleton skeleton-kpi" role="progressbar" aria-label={label} data-testid="skeleton">
      <span class="sk sk-value" />
      <span class="sk sk-delta" />
      <span class="sk sk-badge" />
    </div>
  );
}

export function TileSkeleton({ visualization, label }: { visualization: string; label: string }) {
  let body;
  switch (visualization) {
    case 'kpi':
      body = <span class="sk sk-value" />;
      break;
    case 'bar':
      body = (
        <div class="sk-bars">
          {[0, 1, 2, 3, 4, 5].map((i) => (
            <span key={i} class="sk-bar-row">
              <span class="sk sk-label" />
              <span class="sk sk-bar" />
            </span>
          ))}
        </div>
      );
      break;
    case 'pie':
      body = (
        <div class="sk-pie">
          <span class="sk sk-disc" />
          <span class="sk-legend">
            {[0, 1, 2, 3].map((i) => (
              <span key={i} class="sk sk-line" />
            ))}
          </span>
        </div>
      );
      break;
    case 'line':
      body = (
        <div class="sk sk-area">
          <svg class="sk-trace" viewBox="0 0 320 100" preserveAspectRatio="none" aria-hidden="true">
            <path d="M10 78 L60 62 L110 70 L160 44 L210 52 L260 30 L310 38" />
          </svg>
        </div>
      );
      break;
    default:
      body = <SkeletonRows rows={5} />;
  }
  return (
    <div class={`skeleton skeleton-tile skeleton-${visualization}`} role="progressbar" aria-label={label} data-testid="skeleton">
      {body}
      <span class="sk sk-badge" />
    </div>
  );
}

export function TableSkeleton({ label, rows }: { label: string; rows: number }) {
  return (
    <div class="skeleton skeleton-table" role="progressbar" aria-label={label} data-testid="skeleton">
      <SkeletonRows rows={rows} />
    </div>
  );
}

/** A header row and `rows` body rows of four cells, the widths varying by column in the stylesheet. */
function SkeletonRows({ rows }: { rows: number }) {
  return (
    <span class="sk-rows">
      {Array.from({ length: rows + 1 }, (_, r) => (
        <span key={r} class={r === 0 ? 'sk-tr sk-th' : 'sk-tr'}>
          {[0, 1, 2, 3].map((i) => (
            <span key={i} class="sk" />
          ))}
        </span>
      ))}
    </span>
  );
}
