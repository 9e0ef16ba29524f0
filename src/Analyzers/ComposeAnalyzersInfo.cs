namespace Compose.Analyzers;

/// <summary>
/// Compose.Analyzers holds the rules that need method bodies (synchronous route registration, CMP0008 and
/// CMP0009). They run in the plugin author's build; the rules about ids and class shape run in the generator.
/// </summary>
internal static class ComposeAnalyzersInfo
{
    public const string Category = "Compose";
}
