// An album's playlist: one <audio> plays the tracks in order, moving to the next when one
// ends. Without this script the audio element plays the first track and every track's link
// opens its recording.
(function () {
  "use strict";

  function setUp(playlist) {
    var audio = playlist.querySelector("[data-player]");
    var nowPlaying = playlist.querySelector("[data-now-playing]");
    var tracks = Array.prototype.slice.call(playlist.querySelectorAll("[data-track]"));
    if (!audio || tracks.length === 0) {
      return;
    }
    var current = 0;

    function choose(index, play) {
      current = index;
      tracks.forEach(function (track, position) {
        if (position === index) {
          track.setAttribute("aria-current", "true");
        } else {
          track.removeAttribute("aria-current");
        }
      });
      audio.src = tracks[index].getAttribute("href");
      nowPlaying.textContent = tracks[index].getAttribute("data-title");
      if (play) {
        // A browser may refuse to start sound it was not asked for; the controls remain.
        var started = audio.play();
        if (started && started.catch) {
          started.catch(function () {});
        }
      }
    }

    tracks.forEach(function (track, index) {
      track.addEventListener("click", function (event) {
        event.preventDefault();
        choose(index, true);
      });
    });
    audio.addEventListener("ended", function () {
      if (current + 1 < tracks.length) {
        choose(current + 1, true);
      }
    });

    var controls = playlist.querySelector("[data-controls]");
    if (controls && tracks.length > 1) {
      controls.hidden = false;
      controls.querySelector("[data-previous]").addEventListener("click", function () {
        choose(current > 0 ? current - 1 : 0, true);
      });
      controls.querySelector("[data-next]").addEventListener("click", function () {
        if (current + 1 < tracks.length) {
          choose(current + 1, true);
        }
      });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-playlist]").forEach(setUp);
  });
})();
