// Sort the patients table by a column: click once for ascending, again for descending.
const table = document.getElementById("patients");
if (table) {
  const body = table.tBodies[0];
  let current = null;
  let ascending = true;
  const key = (row, col) => {
    const raw = row.cells[col].dataset.sort ?? row.cells[col].textContent;
    const n = Number(raw);
    return raw !== "" && !Number.isNaN(n) ? n : raw;
  };
  for (const button of table.querySelectorAll("thead button")) {
    button.addEventListener("click", () => {
      const col = Number(button.dataset.col);
      ascending = current === col ? !ascending : true;
      current = col;
      const rows = [...body.rows].sort((a, b) => {
        const x = key(a, col), y = key(b, col);
        const order = x < y ? -1 : x > y ? 1 : 0;
        return ascending ? order : -order;
      });
      body.append(...rows);
      for (const th of table.tHead.rows[0].cells) th.removeAttribute("aria-sort");
      button.parentElement.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    });
  }
}
