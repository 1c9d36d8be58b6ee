/** The page's keyboard, documented where it is used; `?` shows and hides it. */
const KEYS: Array<[string[], string, boolean]> = [
  [['j', '↓'], 'Next signal', false],
  [['k', '↑'], 'Previous signal', false],
  [['Enter', 'o'], 'Open the signal beside the queue; while one is open, it follows the row you move to', false],
  [['x'], 'Select or unselect the signal', true],
  [['Shift', 'x'], 'Select all on the page, or none', true],
  [['a'], 'Assign the selection (or the signal) to me', true],
  [['u'], 'Unassign the selection (or the signal)', true],
  [['s'], 'Change status: the selection’s menu, or the open signal’s next step', true],
  [['n'], 'Write a note on the open signal', true],
  [['/'], 'Jump to the filters', false],
  [['Esc'], 'Clear the selection, then close the signal', false],
  [['?'], 'Show or hide these shortcuts', false],
];

export function Shortcuts({ open, canEdit, onClose }: { open: boolean; canEdit: boolean; onClose: () => void }) {
  return (
    <section id="sig-shortcuts" class="card sig-shortcuts" hidden={!open} aria-labelledby="sig-shortcuts-title" data-testid="shortcuts">
      <div class="section-head">
        <h2 id="sig-shortcuts-title">Keyboard shortcuts</h2>
        <button type="button" class="close" onClick={onClose} aria-label="Hide the shortcuts">✕</button>
      </div>
      <dl>
        {KEYS.filter(([, , edit]) => canEdit || !edit).map(([keys, what]) => (
          <div key={what}>
            <dt>{keys.map((k, i) => <span key={k}>{i > 0 && (keys[0] === 'Shift' ? ' + ' : ' or ')}<kbd>{k}</kbd></span>)}</dt>
            <dd>{what}</dd>
          </div>
        ))}
      </dl>
      <p class="hint">Shortcuts work anywhere on the page except while typing in a field. Tab reaches every control too.</p>
    </section>
  );
}
