// Loaded before require.js and embed-amd.js on every page that shows a widget, so that the
// widgets render from local files only, from whatever depth the page sits at.
//
// 1. The widget manager finds its icon fonts relative to the address require.js gives its
//    module "@jupyter-widgets/html-manager/dist/libembed-amd" (and, for one bundle, from
//    window.__jupyter_widgets_assets_path__); both are pointed at this folder, where the fonts
//    are. A global `require` object defined before require.js loads is its configuration.
// 2. Widget packages that embed-amd.js does not bundle would be fetched from the address in a
//    data-jupyter-widgets-cdn attribute: it is set to this folder too, so nothing is ever
//    requested from another site.
// 3. ipywidgets typesets labels with MathJax 2's MathJax.Hub.Queue; the book loads MathJax 3,
//    so that call is forwarded to MathJax 3's typesetPromise once MathJax has loaded.
(function () {
  var script = document.currentScript;
  var here = new URL(".", script.src).href;
  window.__jupyter_widgets_assets_path__ = here;
  script.setAttribute("data-jupyter-widgets-cdn", here);
  window.require = {
    paths: { "@jupyter-widgets/html-manager/dist": here.replace(/\/$/, ""),
             // modules named "@jupyter-widgets/..." inside the bundle take their asset
             // (icon font) address from where require.js places them: here too, not beside
             // the page (seen on a widget page without math, which requested the fonts there)
             "@jupyter-widgets": here.replace(/\/$/, "") }
  };
  function mathjax2Shim() {
    var M = window.MathJax;
    if (!M || M.Hub || !M.version) { return; }
    M.Hub = {
      Queue: function () {
        Array.prototype.forEach.call(arguments, function (job) {
          if (Array.isArray(job) && job[0] === "Typeset" && job[2] && M.typesetPromise) {
            M.startup.promise.then(function () { return M.typesetPromise([job[2]]); });
          }
        });
      }
    };
  }
  document.addEventListener("DOMContentLoaded", mathjax2Shim);
  window.addEventListener("load", mathjax2Shim);
})();
