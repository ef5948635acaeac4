function Get-BmsMigrationStatus {
    <#
    .SYNOPSIS
    Shows what the workspace holds and how far the migration has come.

    .DESCRIPTION
    Lists the workspace's artefacts (tenant snapshot, readiness report, converted Intune policies,
    wave plan, apply journal): whether each is present, its file, and its headline numbers (for
    example the snapshot's user and device totals, the readiness counts, the number of waves and
    held-back users, the journal's entries).

    Outputs one Bms2Intune.Artifact per artefact.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work. Accepts
    pipeline input by property name and plain strings.

    .EXAMPLE
    Get-BmsMigrationStatus -Workspace .\work

    Shows which steps have run in .\work and their figures.

    .EXAMPLE
    (Get-BmsMigrationStatus -Workspace .\work | Where-Object Name -eq 'readiness').Summary.blocker

    The number of readiness blockers, for a script's decision.

    .INPUTS
    System.String

    .OUTPUTS
    Bms2Intune.Artifact

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding()]
    [OutputType('Bms2Intune.Artifact')]
    param(
        [Parameter(Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [string] $Workspace
    )
    process {
        try {
            $params = [ordered]@{}
            $params['workspace'] = Resolve-BmsWorkspace -Workspace $Workspace
            $result = Invoke-BmsRpc -Command 'status' -Params $params
            foreach ($a in (ConvertTo-BmsArray $result.artifacts)) {
                [pscustomobject][ordered]@{
                    PSTypeName    = 'Bms2Intune.Artifact'
                    Name          = $a.name
                    Present       = [bool]$a.present
                    File          = Join-Path -Path $result.workspace -ChildPath $a.file
                    Summary       = $a.summary
                    Workspace     = $result.workspace
                    FormatVersion = $result.format_version
                }
            }
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
