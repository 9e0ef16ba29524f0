namespace Compose.Integration.Tests;

/// <summary>The order the generator promises, computed independently: repeatedly the smallest id whose dependencies are all placed.</summary>
public static class DependencyOrder
{
    public static List<string> Expected(IEnumerable<ServerPluginDescriptor> descriptors)
    {
        var pending = descriptors.ToDictionary(d => d.Id, d => d.DependsOn, StringComparer.Ordinal);
        var placed = new List<string>();
        while (pending.Count > 0)
        {
            var next = pending.Where(p => p.Value.All(placed.Contains)).Select(p => p.Key).Order(StringComparer.Ordinal).First();
            placed.Add(next);
            pending.Remove(next);
        }

        return placed;
    }
}
