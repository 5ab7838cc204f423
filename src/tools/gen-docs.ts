// `npm run docs`: regenerate docs/messages.md from the codec declarations.
import { writeFileSync } from 'node:fs';
import { renderCatalogue } from '../protocol/catalogue.js';

writeFileSync(new URL('../../docs/messages.md', import.meta.url), renderCatalogue());
