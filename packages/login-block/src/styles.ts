/**
 * The block's look. Every colour, the font, the radius and the QR size are CSS custom properties (`--tapin-*`) a
 * host page sets on `tapin-login`; every region is a `::part()`. The defaults meet WCAG AA contrast on white:
 * text 16:1, muted text 7.4:1, the accent 6.3:1 (white on accent 6.3:1), error red 6.5:1.
 */
export const CSS = `
:host{display:block;max-width:var(--tapin-width,22rem);font:var(--tapin-font,16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif);
--_fg:var(--tapin-color,#1b1f24);--_muted:var(--tapin-muted,#4a5560);--_bg:var(--tapin-background,#fff);--_line:var(--tapin-border,#c9d1d9);
--_accent:var(--tapin-accent,#0b57d0);--_on-accent:var(--tapin-on-accent,#fff);--_error:var(--tapin-error,#b3261e);--_ok:var(--tapin-success,#146c2e);
--_radius:var(--tapin-radius,12px);color:var(--_fg)}
:host([hidden]),[hidden]{display:none!important}
*{box-sizing:border-box}
.box{background:var(--_bg);border:1px solid var(--_line);border-radius:var(--_radius);padding:1.25rem;text-align:center}
.title{font-size:1.2rem;line-height:1.3;margin:0 0 .25rem}
.lead{margin:0 0 1rem;color:var(--_muted)}
.qr{position:relative;width:var(--tapin-qr-size,220px);max-width:100%;aspect-ratio:1;margin:0 auto}
.qr svg{display:block;width:100%;height:100%}
.qr-bg{fill:var(--tapin-qr-background,#fff)}
.qr-fg{fill:var(--tapin-qr-color,#000)}
.qr.dim svg{opacity:.1}
.badge{position:absolute;inset:0;display:flex;align-items:center;justify-content:center;font-weight:700;font-size:1.25rem;color:var(--_ok)}
.linkbox{margin:.5rem 0 0;font-size:.875rem;color:var(--_muted)}
.linkbox summary{cursor:pointer;color:var(--_accent);min-height:24px}
.linkbox p{margin:.25rem 0}
.url{display:block;padding:.4rem;border-radius:6px;background:var(--tapin-code-background,#eef1f4);color:var(--_fg);overflow-wrap:anywhere;user-select:all;font:.8rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.status{margin:.75rem 0 0;font-weight:600;min-height:1.5em}
.status:focus{outline:none}
.status.ok{color:var(--_ok)}
.status.bad,.bad{color:var(--_error)}
.notice{margin:.25rem 0 0;color:var(--_muted);font-size:.875rem}
.number{margin:.5rem 0 0}
.number strong{display:block;font-size:2.75rem;line-height:1.2;letter-spacing:.08em;color:var(--_fg)}
.btn{display:flex;align-items:center;justify-content:center;width:100%;min-height:44px;margin:.75rem 0 0;padding:.5rem 1rem;border:2px solid var(--_accent);
border-radius:calc(var(--_radius) - 4px);background:var(--_bg);color:var(--_accent);font:inherit;font-weight:600;text-decoration:none;cursor:pointer}
.btn.primary{background:var(--_accent);color:var(--_on-accent)}
.btn:hover{filter:brightness(.92)}
.link{min-height:44px;padding:.25rem .5rem;border:0;background:none;color:var(--_accent);font:inherit;text-decoration:underline;cursor:pointer}
:focus-visible{outline:3px solid var(--tapin-focus,var(--_accent));outline-offset:2px}
.alt{margin-top:1rem;padding-top:.5rem;border-top:1px solid var(--_line)}
.or{display:block;margin:-1.35rem auto .25rem;width:max-content;padding:0 .5rem;background:var(--_bg);color:var(--_muted);font-size:.875rem}
form{display:grid;gap:.4rem;margin:.5rem 0 0;text-align:left}
label{font-weight:600}
input{width:100%;min-height:44px;padding:.5rem .75rem;border:1px solid var(--tapin-input-border,#6e7781);border-radius:6px;background:var(--_bg);color:var(--_fg);font:inherit}
input[aria-invalid=true]{border:2px solid var(--_error)}
#otp-input{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.08em;text-transform:uppercase}
.hint,.msg{margin:0;font-size:.875rem;color:var(--_muted)}
.msg.bad{color:var(--_error)}
form .btn{margin-top:.25rem}
.spin{display:inline-block;width:1em;height:1em;margin-right:.5em;vertical-align:-.15em;border:2px solid currentColor;border-right-color:transparent;border-radius:50%;animation:r 1s linear infinite}
@keyframes r{to{transform:rotate(1turn)}}
@media (prefers-reduced-motion:reduce){.spin{animation:none}}
`;
