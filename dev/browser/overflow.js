// What stands out of the viewport sideways on the page that is open (dev/browser/site_check.py).
// One expression: its value is a JSON object.
//   outside:   boxes reaching past the viewport's right edge that no scrolling box contains,
//              outermost only (the page itself scrolls sideways because of them);
//   columns:   boxes holding the page's content (<article>) that scroll sideways: the text
//              itself scrolls then (furo's narrow layout makes its content column scroll);
//   clipped:   boxes in the page's content (<article>) whose content is wider than the box and
//              cut off with no way to see it (overflow hidden or clip, no ellipsis);
//   scrolling: boxes in the content that scroll sideways (fine: a wide table or code block),
//              with how much they hide and their scrollbar's height.
// Fixed boxes are skipped with what they contain: off-canvas drawers and the back-to-top
// button sit outside the viewport on purpose and never make the page scroll.
(() => {
  const viewport = document.documentElement.clientWidth;
  const root = document.scrollingElement || document.documentElement;
  const describe = (el) => {
    const r = el.getBoundingClientRect();
    let name = el.tagName.toLowerCase();
    if (el.id) name += "#" + el.id;
    for (const cls of [...el.classList].slice(0, 3)) name += "." + cls;
    const section = el.closest("section[id]");
    return {
      element: name,
      section: section ? section.id : null,
      left: Math.round(r.left),
      right: Math.round(r.right),
      width: Math.round(r.width),
      text: (el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 80),
    };
  };
  const outside = [];
  const columns = [];
  const clipped = [];
  const scrolling = [];
  const walk = (el, contained, inContent) => {
    const style = getComputedStyle(el);
    if (style.display === "none") return;
    const fixed = style.position === "fixed";
    if (fixed) return;
    if (!contained && style.visibility !== "hidden") {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && r.height > 0 && r.right > viewport + 1) {
        outside.push(describe(el));
        return;
      }
    }
    const cuts = style.overflowX === "hidden" || style.overflowX === "clip";
    const scrolls = style.overflowX === "auto" || style.overflowX === "scroll";
    const content = inContent || el.tagName === "ARTICLE";
    const wider = el.scrollWidth > el.clientWidth + 1;
    if (scrolls && wider && (el.tagName === "ARTICLE" || el.querySelector("article"))) {
      columns.push(describe(el));
    } else if (content && wider) {
      if (cuts && style.textOverflow !== "ellipsis") clipped.push(describe(el));
      if (scrolls) {
        const borders = parseFloat(style.borderTopWidth) + parseFloat(style.borderBottomWidth);
        const scrollbar = Math.round(el.offsetHeight - el.clientHeight - borders);
        const hidden = el.scrollWidth - el.clientWidth;
        scrolling.push({ ...describe(el), hidden, scrollbar });
      }
    }
    for (const child of el.children) walk(child, contained || cuts || scrolls, content);
  };
  walk(document.body, false, false);
  return {
    viewport,
    scrollWidth: root.scrollWidth,
    clientWidth: root.clientWidth,
    outside,
    columns,
    clipped,
    scrolling,
  };
})()
