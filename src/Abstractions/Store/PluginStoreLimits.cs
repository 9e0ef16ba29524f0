using System.Text;

namespace Compose.Store;

/// <summary>The documented limits of <see cref="IPluginStore"/> and <see cref="IPluginClusterEvents"/>, the same on every backend.</summary>
public static class PluginStoreLimits
{
    /// <summary>The longest key, in bytes of UTF-8 (512).</summary>
    public const int MaxKeyBytes = 512;

    /// <summary>The largest value, in bytes (1 MiB).</summary>
    public const int MaxValueBytes = 1024 * 1024;

    /// <summary>The most keys one <see cref="IPluginStore.ListKeysAsync"/> call returns (10 000).</summary>
    public const int MaxListLimit = 10_000;

    /// <summary>
    /// The largest cluster-event payload, in bytes (4000): PostgreSQL's <c>NOTIFY</c> carries at most 8000 bytes, and the
    /// payload travels base64-encoded with the event name and the sender's id.
    /// </summary>
    public const int MaxEventPayloadBytes = 4000;

    /// <summary>The longest cluster-event name, in bytes of UTF-8 (128).</summary>
    public const int MaxEventNameBytes = 128;

    /// <summary>The longest replica id (<c>Compose:Store:ReplicaId</c>), in bytes of UTF-8: 128.</summary>
    public const int MaxReplicaIdBytes = 128;

    /// <summary>The longest expiry (ten years).</summary>
    public static readonly TimeSpan MaxExpiry = TimeSpan.FromDays(3650);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="key"/> is a valid store key.</summary>
    /// <param name="key">The key.</param>
    /// <param name="parameterName">The parameter named in the exception.</param>
    /// <exception cref="ArgumentNullException"><paramref name="key"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The key is empty, too long or holds a control character.</exception>
    public static void ValidateKey(string key, string parameterName = "key")
    {
        ArgumentNullException.ThrowIfNull(key, parameterName);
        if (key.Length == 0)
        {
            throw new ArgumentException("A store key must not be empty.", parameterName);
        }

        ValidateText(key, MaxKeyBytes, "store key", parameterName);
    }

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="prefix"/> could start a valid key (empty allowed).</summary>
    /// <param name="prefix">The prefix.</param>
    /// <exception cref="ArgumentNullException"><paramref name="prefix"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The prefix is too long or holds a control character.</exception>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        ValidateText(prefix, MaxKeyBytes, "store key prefix", nameof(prefix));
    }

    /// <summary>Throws unless <paramref name="value"/> fits <see cref="MaxValueBytes"/>.</summary>
    /// <param name="value">The value.</param>
    /// <exception cref="ArgumentException">The value is too large.</exception>
    public static void ValidateValue(ReadOnlyMemory<byte> value)
    {
        if (value.Length > MaxValueBytes)
        {
            throw new ArgumentException($"A store value holds at most {MaxValueBytes} bytes; this one has {value.Length}.", nameof(value));
        }
    }

    /// <summary>Throws unless <paramref name="expiresAfter"/> is <see langword="null"/> or within one millisecond and <see cref="MaxExpiry"/>.</summary>
    /// <param name="expiresAfter">The expiry.</param>
    /// <exception cref="ArgumentOutOfRangeException">The expiry is out of range.</exception>
    public static void ValidateExpiry(TimeSpan? expiresAfter)
    {
        if (expiresAfter is { } span && (span < TimeSpan.FromMilliseconds(1) || span > MaxExpiry))
        {
            throw new ArgumentOutOfRangeException(nameof(expiresAfter), span, $"An expiry lies between 1 ms and {MaxExpiry.TotalDays:0} days.");
        }
    }

    /// <summary>Throws unless <paramref name="limit"/> is within 1 and <see cref="MaxListLimit"/>.</summary>
    /// <param name="limit">The limit.</param>
    /// <exception cref="ArgumentOutOfRangeException">The limit is out of range.</exception>
    public static void ValidateListLimit(int limit)
    {
        if (limit < 1 || limit > MaxListLimit)
        {
            throw new ArgumentOutOfRangeException(nameof(limit), limit, $"A listing returns 1 to {MaxListLimit} keys.");
        }
    }

    /// <summary>Throws unless <paramref name="name"/> and <paramref name="payload"/> make a valid cluster event.</summary>
    /// <param name="name">The event name.</param>
    /// <param name="payload">The payload.</param>
    /// <exception cref="ArgumentNullException"><paramref name="name"/> is <see langword="null"/>.</exception>
    /// <exception cref="ArgumentException">The name is empty, too long or holds a control character, or the payload is too large.</exception>
    public static void ValidateEvent(string name, ReadOnlyMemory<byte> payload)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0)
        {
            throw new ArgumentException("A cluster event name must not be empty.", nameof(name));
        }

        ValidateText(name, MaxEventNameBytes, "cluster event name", nameof(name));
        if (payload.Length > MaxEventPayloadBytes)
        {
            throw new ArgumentException($"A cluster event payload holds at most {MaxEventPayloadBytes} bytes; this one has {payload.Length}.", nameof(payload));
        }
    }

    /// <summary>
    /// Checks a configured replica id (<c>Compose:Store:ReplicaId</c>): 1 to <see cref="MaxReplicaIdBytes"/> bytes of
    /// UTF-8, no control characters, no lone surrogates, no surrounding white space. It should be unique per running
    /// replica (a pod name, a host name with its port): the catalog and health name lease holders by it.
    /// </summary>
    /// <param name="replicaId">The id.</param>
    /// <returns><paramref name="replicaId"/>.</returns>
    /// <exception cref="ArgumentException">The id breaks a rule; the message names <c>Compose:Store:ReplicaId</c>.</exception>
    public static string ValidateReplicaId(string replicaId)
    {
        ArgumentNullException.ThrowIfNull(replicaId);
        try
        {
            if (replicaId.Length == 0 || replicaId.Trim().Length != replicaId.Length)
            {
                throw new ArgumentException("A replica id must not be empty or start or end with white space.", nameof(replicaId));
            }

            ValidateText(replicaId, MaxReplicaIdBytes, "replica id", nameof(replicaId));
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"Compose:Store:ReplicaId '{replicaId.ReplaceLineEndings(" ")}' is refused: {ex.Message}", nameof(replicaId), ex);
        }

        return replicaId;
    }

    private static void ValidateText(string text, int maxBytes, string what, string parameterName)
    {
        // Checked on chars first, so a 10 MB string is refused without encoding it.
        if (text.Length > maxBytes)
        {
            throw new ArgumentException($"A {what} holds at most {maxBytes} bytes of UTF-8; this one has {text.Length} characters.", parameterName);
        }

        foreach (var c in text)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException($"A {what} must not contain control characters (U+{(int)c:X4} found).", parameterName);
            }
        }

        int bytes;
        try
        {
            bytes = new UTF8Encoding(false, true).GetByteCount(text);
        }
        catch (EncoderFallbackException ex)
        {
            throw new ArgumentException($"A {what} must be valid Unicode (it holds a lone surrogate).", parameterName, ex);
        }

        if (bytes > maxBytes)
        {
            throw new ArgumentException($"A {what} holds at most {maxBytes} bytes of UTF-8; this one has {bytes}.", parameterName);
        }
    }
}
