// The image form's focal point: a click on the preview sets the two number fields
// (focal_x, focal_y: fractions of the width and height), and the marker follows them.
// The number fields work on their own, without a pointer or without this script.
(function () {
  "use strict";

  function round(value) {
    return Math.round(Math.min(Math.max(value, 0), 1) * 1000) / 1000;
  }

  function setUp(picker) {
    var image = picker.querySelector(".focal-point__image");
    var marker = picker.querySelector(".focal-point__marker");
    var inputX = document.getElementById("id_focal_x");
    var inputY = document.getElementById("id_focal_y");
    if (!image || !marker || !inputX || !inputY) {
      return; // a read-only form: nothing to set
    }

    function place() {
      var x = inputX.value === "" ? 0.5 : parseFloat(inputX.value);
      var y = inputY.value === "" ? 0.5 : parseFloat(inputY.value);
      if (isNaN(x) || isNaN(y)) {
        marker.hidden = true;
        return;
      }
      // CSSOM, not a style attribute: the admin's CSP allows no inline styles.
      marker.style.left = round(x) * 100 + "%";
      marker.style.top = round(y) * 100 + "%";
      marker.hidden = false;
    }

    image.addEventListener("click", function (event) {
      var box = image.getBoundingClientRect();
      inputX.value = round((event.clientX - box.left) / box.width);
      inputY.value = round((event.clientY - box.top) / box.height);
      inputX.dispatchEvent(new Event("change", { bubbles: true }));
      inputY.dispatchEvent(new Event("change", { bubbles: true }));
      place();
    });
    inputX.addEventListener("input", place);
    inputY.addEventListener("input", place);
    picker.classList.add("focal-point--active");
    place();
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".focal-point").forEach(setUp);
  });
})();
