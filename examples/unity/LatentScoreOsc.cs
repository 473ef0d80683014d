// LatentScore bridge from Unity with OscJack (https://github.com/keijiro/OscJack).
//
// Run `latentscore bridge --preset morning_mist` on the same machine, add this component
// to a GameObject, and it will send a vibe whenever a scene loads (one vibe per scene,
// set in the inspector) and step the music on game events:
//
//   FindObjectOfType<LatentScoreOsc>().Tension(+1);   // darker, faster, denser
//   FindObjectOfType<LatentScoreOsc>().Tension(-1);   // and back
//
// Every address is documented in the README ("OSC bridge") and by
// `latentscore bridge --list-addresses`.
using System.Collections.Generic;
using OscJack;
using UnityEngine;
using UnityEngine.SceneManagement;

public class LatentScoreOsc : MonoBehaviour
{
    [System.Serializable]
    public struct SceneVibe { public string scene; public string vibe; }

    public string host = "127.0.0.1";
    public int port = 9000;
    public float transitionSeconds = 4f;
    public List<SceneVibe> vibes = new List<SceneVibe>
    {
        new SceneVibe { scene = "Forest", vibe = "misty forest at dawn, birds far away" },
        new SceneVibe { scene = "Cave", vibe = "dripping cave, dark and cold" },
    };

    OscClient _client;

    void OnEnable()
    {
        _client = new OscClient(host, port);
        _client.Send("/latentscore/transition", transitionSeconds);
        SceneManager.sceneLoaded += OnSceneLoaded;
    }

    void OnDisable()
    {
        SceneManager.sceneLoaded -= OnSceneLoaded;
        _client?.Dispose();
        _client = null;
    }

    void OnSceneLoaded(Scene scene, LoadSceneMode mode)
    {
        foreach (var entry in vibes)
            if (entry.scene == scene.name)
                _client.Send("/latentscore/vibe", entry.vibe);  // crossfades; title comes back
    }

    // A game event: +1 raises tension one step on several ordered fields, -1 lowers it.
    public void Tension(int steps)
    {
        _client.Send("/latentscore/step/tempo", steps);
        _client.Send("/latentscore/step/density", steps);
        _client.Send("/latentscore/step/brightness", -steps);
    }

    // A continuous game value (0..1), e.g. the player's speed, as a fader.
    public void Energy(float value)
    {
        _client.Send("/latentscore/motion", Mathf.Clamp01(value));
    }
}
