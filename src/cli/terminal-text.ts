/**
 * `text` made safe to print to a terminal: every C0 control (including tab, CR and LF), DEL and
 * every C1 control is shown in caret notation, as `cat -v` and gh do (ESC as `^[`, BEL `^G`, LF
 * `^J`, DEL `^?`; a C1 control as ESC plus its 7-bit form, CSI U+009B as `^[[`), and a caret
 * itself stays a caret. So a metadata value cannot move the cursor, retitle the window, ring the
 * bell or forge table rows; `--json` output is not passed through this and stays exact.
 */
export function terminalSafe(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0);
    if (code < 0x20) return `^${String.fromCharCode(code + 0x40)}`;
    if (code === 0x7f) return '^?';
    return `^[${String.fromCharCode(code - 0x40)}`;
  });
}
