/** Entry point of the browse page (bundled by scripts/build-web.mjs). */
import { startRouter } from './router.js';

startRouter();
