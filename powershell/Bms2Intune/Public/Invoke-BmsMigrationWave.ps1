function Invoke-BmsMigrationWave {
    <#
    .SYNOPSIS
    Licenses one wave of the plan for Intune through Microsoft Graph (or shows what it would do).

    .DESCRIPTION
    Carries out wave N of the workspace's plan (0 = the pilot): adds the wave's users to the
    wave's license group and assigns the Intune license, recording every Graph operation in the
    workspace journal so a rerun resumes where it stopped and never repeats a done operation.
    Their BMS-managed devices move to Intune at the next check-in. Needs Connect-BmsGraph first.

    This changes the tenant, so it asks for confirmation (ConfirmImpact High). -WhatIf (or
    -DryRun) asks the binary for a dry run instead: nothing changes and the planned operations are
    listed. Unattended jobs pass -Confirm:$false.

    Outputs one Bms2Intune.MigrationAction per Graph operation (planned or done, with its status).
    Failed operations also give a non-terminating 'apply.partial_failure' error.

    .PARAMETER Wave
    The wave number (0 = pilot). Accepts Bms2Intune.Wave objects (Number) through the pipeline.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER DryRun
    Only list the operations; change nothing (same as -WhatIf, without the confirmation prompt).

    .EXAMPLE
    Invoke-BmsMigrationWave -Workspace .\work -Wave 0 -WhatIf

    Lists what licensing the pilot wave would do, without changing the tenant.

    .EXAMPLE
    Invoke-BmsMigrationWave -Workspace .\work -Wave 1 -Confirm:$false

    Licenses wave 1 without a prompt, as a scheduled job does.

    .EXAMPLE
    New-BmsWavePlan -Workspace .\work -PilotGroup 'BMS Pilot' | Where-Object Number -eq 0 | Invoke-BmsMigrationWave -DryRun

    Plans and dry-runs the pilot wave in one pipeline.

    .INPUTS
    Bms2Intune.Wave, System.Int32

    .OUTPUTS
    Bms2Intune.MigrationAction

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding(SupportsShouldProcess, ConfirmImpact = 'High')]
    [OutputType('Bms2Intune.MigrationAction')]
    param(
        [Parameter(Mandatory, Position = 0, ValueFromPipeline, ValueFromPipelineByPropertyName)]
        [Alias('Number')]
        [ValidateRange(0, 100000)]
        [int] $Wave,

        [Parameter(ValueFromPipelineByPropertyName)]
        [string] $Workspace,

        [switch] $DryRun
    )
    process {
        try {
            $ws = Resolve-BmsWorkspace -Workspace $Workspace
            $dry = [bool]$DryRun
            if (-not $dry) {
                $what = "wave $Wave of the plan in '$ws'"
                if ($Wave -eq 0) { $what = "the pilot wave (0) of the plan in '$ws'" }
                if (-not $PSCmdlet.ShouldProcess($what, 'Assign Intune licenses (devices move from BMS to Intune)')) {
                    # -WhatIf becomes the binary's dry run; a declined -Confirm does nothing.
                    if ($WhatIfPreference) { $dry = $true } else { return }
                }
            }
            $params = [ordered]@{}
            $params['workspace'] = $ws
            $params['wave'] = $Wave
            $params['dry_run'] = $dry
            try {
                $result = Invoke-BmsRpc -Command 'apply' -Params $params
            } catch {
                throw (Get-BmsUnavailableError -ErrorRecord $_ -Feature 'Licensing a wave through Microsoft Graph')
            }
            ConvertTo-BmsMigrationAction -Result $result -Step "wave $Wave"
        } catch {
            $PSCmdlet.ThrowTerminatingError($_)
        }
    }
}
