// The in-page confirmation dialog (a modal <dialog>: focus stays inside, Escape cancels).

import { $ } from './dom.js';

/** Asks to confirm (`title`: text, or text and nodes); resolves true when the user confirms.
 * Focus goes back to what had it, unless the answer removes it. */
export function confirmDialog({ title, body, confirm }) {
  const dialog = $('confirm-dialog');
  $('confirm-title').replaceChildren(...[title].flat());
  $('confirm-body').textContent = body;
  $('confirm-ok').textContent = confirm;
  const opener = document.activeElement;
  return new Promise((resolve) => {
    const done = (answer) => {
      $('confirm-ok').removeEventListener('click', yes);
      $('confirm-cancel').removeEventListener('click', no);
      dialog.removeEventListener('cancel', no);
      if (dialog.open) dialog.close();
      opener?.focus?.();
      resolve(answer);
    };
    const yes = () => done(true);
    const no = (e) => {
      e?.preventDefault?.();
      done(false);
    };
    $('confirm-ok').addEventListener('click', yes);
    $('confirm-cancel').addEventListener('click', no);
    dialog.addEventListener('cancel', no);
    dialog.showModal();
    $('confirm-cancel').focus();
  });
}
