/**
 * `npm run drill:ha`: the scale-out drill (drill/ha.ts) with its figures printed. Exits 1 when an acknowledged
 * write is lost, a version number was answered twice, a request failed that was not in flight at the kill, or
 * a surviving instance refused the dead one's token.
 */
import { describeFigures, runHaDrill } from "./ha.js";

const figures = await runHaDrill({ log: (line) => console.log(line) });
console.log("");
for (const line of describeFigures(figures)) console.log(line);
const held =
  figures.lostWrites === 0 &&
  figures.duplicateVersions === 0 &&
  figures.errors.afterKill + figures.errors.beforeKill === 0 &&
  figures.survivorsAcceptingDeadInstanceToken === figures.survivors;
console.log(held ? "\nthe drill held" : "\nTHE DRILL FAILED");
process.exit(held ? 0 : 1);
