// Starts the NHS.UK frontend's components (header menu, error summary focus, ...). A file, not an
// inline script, so the Content-Security-Policy allows scripts from this site only.
import { initAll } from '/nhsuk/nhsuk-frontend.min.js';

initAll();
